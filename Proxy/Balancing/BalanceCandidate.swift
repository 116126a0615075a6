/// What a balancing policy sees of one backend: the pool keeps one per backend, in its order, and
/// passes the whole array to the policy, which answers with an index.
struct BalanceCandidate: Sendable, Equatable {
    var address: BackendAddress
    /// The configured weight, 1–100.
    var weight: Int
    /// The weight the policy uses: `weight`, or less while the backend ramps up after (re)joining.
    var effectiveWeight: Double
    /// Requests sent to it and not finished yet, across all event loops.
    var inFlight: Int
    /// Whether health allows routing to it.
    var inRotation: Bool

    init(address: BackendAddress, weight: Int = 1, effectiveWeight: Double? = nil, inFlight: Int = 0, inRotation: Bool = true) {
        self.address = address
        self.weight = weight
        self.effectiveWeight = effectiveWeight ?? Double(weight)
        self.inFlight = inFlight
        self.inRotation = inRotation
    }
}

extension [BalanceCandidate] {
    /// Whether the candidate at `index` may be picked: in rotation and not already tried by this request.
    @inline(__always)
    func isEligible(_ index: Int, excluding excluded: TriedBackends) -> Bool {
        self[index].inRotation && (excluded.isEmpty || !excluded.contains(self[index].address))
    }
}
