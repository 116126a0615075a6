/// nginx's smooth weighted round-robin (`ngx_http_upstream_get_peer` in ngx_http_upstream_round_robin.c):
/// every eligible backend's current weight grows by its effective weight, the largest is picked and
/// loses the total. Weights 5/1/1 give `a a b a c a a`, spreading the light backends between the heavy
/// one's turns instead of sending it five in a row; equal weights give plain round-robin.
struct SmoothWeightedRoundRobin: Sendable, Equatable {
    /// Each backend's current weight, by index; reset when the backend list changes.
    private(set) var current: [Double] = []

    /// Forgets the current weights (the backend list changed, so indices mean other backends).
    mutating func reset() {
        current.removeAll(keepingCapacity: true)
    }

    /// The next eligible backend, or nil when none is.
    mutating func pick(from candidates: [BalanceCandidate], excluding excluded: TriedBackends) -> Int? {
        pick(from: candidates) { candidates.isEligible($0, excluding: excluded) }
    }

    /// The next backend among those `eligible` accepts (also the tie-break of `LeastOutstanding`).
    mutating func pick(from candidates: [BalanceCandidate], where eligible: (Int) -> Bool) -> Int? {
        if current.count != candidates.count { current = Array(repeating: 0, count: candidates.count) }
        var best: Int?
        var total = 0.0
        for index in candidates.indices where eligible(index) {
            let weight = candidates[index].effectiveWeight
            current[index] += weight
            total += weight
            if let chosen = best, current[index] <= current[chosen] { continue }
            best = index
        }
        if let best { current[best] -= total }
        return best
    }
}
