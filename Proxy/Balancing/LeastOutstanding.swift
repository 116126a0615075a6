/// The eligible backend with the fewest requests in flight per unit of weight (nginx's `least_conn`
/// compares `conns / weight` the same way); ties go to smooth weighted round-robin among the tied,
/// so idle equal backends still share evenly and idle weighted ones share by weight.
struct LeastOutstanding: Sendable, Equatable {
    private(set) var tieBreak = SmoothWeightedRoundRobin()

    mutating func reset() {
        tieBreak.reset()
    }

    mutating func pick(from candidates: [BalanceCandidate], excluding excluded: TriedBackends) -> Int? {
        // First pass: the least load; second: round-robin among the backends that carry exactly it.
        var least: Int?
        var ties = 0
        for index in candidates.indices where candidates.isEligible(index, excluding: excluded) {
            guard let best = least else {
                least = index
                ties = 1
                continue
            }
            switch compareLoad(candidates[index], candidates[best]) {
            case .lower:
                least = index
                ties = 1
            case .equal: ties += 1
            case .higher: break
            }
        }
        guard let least else { return nil }
        if ties == 1 { return least }
        let reference = candidates[least]
        return tieBreak.pick(from: candidates) { index in
            candidates.isEligible(index, excluding: excluded) && compareLoad(candidates[index], reference) == .equal
        }
    }
}

/// How two backends' loads (in flight per unit of effective weight) compare.
enum LoadComparison: Sendable, Equatable {
    case lower, equal, higher
}

/// `a.inFlight / a.effectiveWeight` against the same for `b`, cross-multiplied so no division is needed.
@inline(__always)
func compareLoad(_ a: BalanceCandidate, _ b: BalanceCandidate) -> LoadComparison {
    let left = Double(a.inFlight) * b.effectiveWeight
    let right = Double(b.inFlight) * a.effectiveWeight
    return left < right ? .lower : (left == right ? .equal : .higher)
}
