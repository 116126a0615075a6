/// Power of two choices: two distinct eligible backends drawn at random (each with probability
/// proportional to its effective weight), and the one with less in flight per unit of weight wins
/// (the first drawn on a tie). It avoids the herd that least-outstanding sends to one just-freed backend
/// when the counts it sees are stale, and needs no global scan to stay good.
struct PowerOfTwoChoices: Sendable, Equatable {
    /// Seeded by the caller, so tests get the same draws every run.
    var generator: SplitMix64

    init(seed: UInt64) {
        generator = SplitMix64(seed: seed)
    }

    mutating func pick(from candidates: [BalanceCandidate], excluding excluded: TriedBackends) -> Int? {
        var total = 0.0
        for index in candidates.indices where candidates.isEligible(index, excluding: excluded) {
            total += candidates[index].effectiveWeight
        }
        guard let first = draw(from: candidates, excluding: excluded, skipping: nil, total: total) else { return nil }
        let rest = total - candidates[first].effectiveWeight
        guard rest > 0, let second = draw(from: candidates, excluding: excluded, skipping: first, total: rest) else { return first }
        return compareLoad(candidates[second], candidates[first]) == .lower ? second : first
    }

    /// One eligible index (other than `skipping`), with probability effective weight / `total`.
    private mutating func draw(from candidates: [BalanceCandidate], excluding excluded: TriedBackends, skipping: Int?, total: Double) -> Int? {
        guard total > 0 else { return nil }
        var point = Double.random(in: 0..<total, using: &generator)
        var last: Int?
        for index in candidates.indices where index != skipping && candidates.isEligible(index, excluding: excluded) {
            point -= candidates[index].effectiveWeight
            last = index
            if point < 0 { return index }
        }
        // Rounding can leave `point` a hair above zero after the last candidate: that one is meant.
        return last
    }
}

/// SplitMix64 (Steele, Lea and Flood), a small, fast, seedable generator: what `p2c` draws with, seeded
/// from the system generator in production and fixed in tests.
struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
