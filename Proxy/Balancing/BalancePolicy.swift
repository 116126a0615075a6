/// How the proxy chooses a backend for each request (`--balance`).
enum BalancePolicy: String, Sendable, CaseIterable, Equatable {
    /// Smooth weighted round-robin: each backend gets its share in turn, whatever its load.
    case roundRobin = "round-robin"
    /// The backend with the fewest requests in flight per unit of weight.
    case leastOutstanding = "least-outstanding"
    /// The less loaded of two backends drawn at random by weight.
    case p2c
}

/// A policy with its state (the round-robin current weights, the random generator): the pool keeps one
/// under its lock and asks it for an index on every pick.
///
/// A struct holding each policy's state side by side, not an enum with payloads, so a pick mutates the
/// state in place (an enum payload would be copied out and back, copying its array on every request).
struct Balancer: Sendable, Equatable {
    let policy: BalancePolicy
    private var roundRobin = SmoothWeightedRoundRobin()
    private var leastOutstanding = LeastOutstanding()
    private var powerOfTwo: PowerOfTwoChoices

    /// - Parameter seed: seeds the `p2c` draws; tests fix it, the proxy takes one from the system generator.
    init(_ policy: BalancePolicy, seed: UInt64 = UInt64.random(in: .min ... .max)) {
        self.policy = policy
        self.powerOfTwo = PowerOfTwoChoices(seed: seed)
    }

    /// The index of the backend to use among `candidates`, skipping those out of rotation and `excluded`;
    /// nil when none is eligible.
    mutating func pick(from candidates: [BalanceCandidate], excluding excluded: TriedBackends = []) -> Int? {
        switch policy {
        case .roundRobin: roundRobin.pick(from: candidates, excluding: excluded)
        case .leastOutstanding: leastOutstanding.pick(from: candidates, excluding: excluded)
        case .p2c: powerOfTwo.pick(from: candidates, excluding: excluded)
        }
    }

    /// The backend list changed: per-index state no longer applies.
    mutating func reset() {
        roundRobin.reset()
        leastOutstanding.reset()
    }
}
