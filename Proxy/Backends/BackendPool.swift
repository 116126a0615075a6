import Foundation
import Logging
import Synchronization

/// The backends, their health and counters, and the balancing policy's state.
///
/// The forwarding path meets it in two calls only, both made by `ProxyHandler` when `ExchangeStateMachine`
/// asks for them: `next(excluding:)` picks the backend of an attempt (and counts it in flight), and
/// `finish(_:outcome:reason:)` ends that count with the attempt's outcome. A balancing policy (least
/// outstanding, power of two choices, weights, slow start) changes what happens inside those two calls,
/// not who calls them or when.
///
/// One `Mutex` guards everything: a pick is a few comparisons over a handful of backends, far cheaper
/// than the request it routes, and one lock keeps "pick + count in flight" atomic, so the in-flight
/// counts the policies read cost no write beyond that lock. Transitions are logged after it is released.
final class BackendPool: Sendable {
    private let state: Mutex<State>
    private let policy: HealthPolicy
    let logger: Logger
    /// When set, backends that (re)join rotation ramp up their weight.
    let slowStart: SlowStart?
    /// The balancing policy, for `/status`.
    let balance: BalancePolicy
    /// When set, backends much slower than the others are ejected for a while (`BackendPool+Outliers`).
    let outliers: OutlierEjection?
    let now: @Sendable () -> ContinuousClock.Instant

    struct State {
        /// What the balancer sees, by index; `entries` holds the rest of each backend's state at the same index.
        var candidates: [BalanceCandidate]
        var entries: [Entry]
        var balancer: Balancer
        /// Backends whose weight is still ramping up; picks skip the clock while it is 0.
        var ramping = 0
        /// Backends out of rotation for latency; picks skip the clock while it is 0.
        var latencyEjected = 0
    }

    struct Entry {
        var health: BackendHealth = .healthy
        var requests = 0
        var failures = 0
        var lastCheck: BackendStatus.Check?
        /// When the backend (re)joined rotation, while its slow start lasts.
        var rampStart: ContinuousClock.Instant?
        var latency = LatencyRecord()

        /// Health and latency both allow routing to it.
        var inRotation: Bool { health.inRotation && !latency.isEjected }
    }

    /// - Parameters:
    ///   - balancer: the policy with its state (and, for `p2c`, its seed).
    ///   - slowStart: applies to backends that join by reload or return to rotation, not to the initial list.
    ///   - outliers: latency outlier ejection, off when nil.
    ///   - now: the clock slow start and ejections read; tests pass a fake one.
    init(
        backends: [WeightedBackend],
        balancer: Balancer = Balancer(.roundRobin),
        slowStart: SlowStart? = nil,
        outliers: OutlierEjection? = nil,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        policy: HealthPolicy,
        logger: Logger
    ) {
        let unique = Self.unique(backends)
        self.state = Mutex(
            State(
                candidates: unique.map { BalanceCandidate(address: $0.address, weight: $0.weight) },
                entries: unique.map { _ in Entry() },
                balancer: balancer
            )
        )
        self.balance = balancer.policy
        self.slowStart = slowStart
        self.outliers = outliers
        self.now = now
        self.policy = policy
        self.logger = logger
    }

    /// The configured backends, in order.
    var addresses: [BackendAddress] { state.withLock { $0.candidates.map(\.address) } }

    /// Whether any backend is in rotation.
    var hasHealthyBackend: Bool { state.withLock { $0.candidates.contains { $0.inRotation } } }

    /// The backend the policy picks among those in rotation, skipping `excluded`; counts the request as in flight.
    func next(excluding excluded: TriedBackends = []) -> BackendAddress? {
        var readmitted: [BackendAddress] = []
        let picked = state.withLock { state -> BackendAddress? in
            if state.ramping > 0 { updateRamps(&state) }
            if state.latencyEjected > 0 { readmitted = readmitDue(&state) }
            guard let index = state.balancer.pick(from: state.candidates, excluding: excluded) else { return nil }
            state.candidates[index].inFlight += 1
            state.entries[index].requests += 1
            return state.candidates[index].address
        }
        for address in readmitted { logReadmission(address) }
        return picked
    }

    /// Ends a request that `next` started (after its response body, or its failure), feeding its outcome,
    /// if any, to the backend's state machine under the same lock, and its response time (seconds from the
    /// pick to the response head) to its latency record when outlier ejection is on.
    func finish(_ address: BackendAddress, outcome: BackendHealth.Event? = nil, reason: String? = nil, responseTime: Double? = nil) {
        var ejection: OutlierEjected?
        let transition: (BackendHealth, BackendHealth)? = state.withLock { state in
            guard let index = state.candidates.firstIndex(where: { $0.address == address }) else { return nil }
            state.candidates[index].inFlight -= 1
            if let responseTime { ejection = record(responseTime, at: index, in: &state) }
            guard let outcome else { return nil }
            return apply(outcome, at: index, in: &state, reason: reason)
        }
        if let (old, new) = transition, let outcome { log(old, new, address: address, event: outcome, reason: reason) }
        if let ejection { logEjection(ejection) }
    }

    /// Feeds a request outcome or a check result to the backend's state machine.
    func record(_ event: BackendHealth.Event, for address: BackendAddress, reason: String? = nil) {
        let transition: (BackendHealth, BackendHealth)? = state.withLock { state in
            guard let index = state.candidates.firstIndex(where: { $0.address == address }) else { return nil }
            return apply(event, at: index, in: &state, reason: reason)
        }
        if let (old, new) = transition { log(old, new, address: address, event: event, reason: reason) }
    }

    /// Moves one backend's state; returns the transition when the state changed. A backend returning to
    /// rotation starts its slow start.
    private func apply(_ event: BackendHealth.Event, at index: Int, in state: inout State, reason: String?) -> (BackendHealth, BackendHealth)? {
        let old = state.entries[index].health
        let new = old.next(after: event, rise: policy.rise, fall: policy.fall)
        // Nearly every request ends here: a success that changes nothing leaves the entry untouched (and
        // uncopied: reading `inRotation` below copies the whole entry, its strings included).
        if event == .requestSucceeded && new == old { return nil }
        let wasInRotation = state.entries[index].inRotation
        state.entries[index].health = new
        state.candidates[index].inRotation = state.entries[index].inRotation
        if state.entries[index].inRotation && !wasInRotation { startRamp(at: index, in: &state) }
        switch event {
        case .requestFailed, .connectionRefused: state.entries[index].failures += 1
        case .checkPassed, .checkFailed:
            state.entries[index].lastCheck = .init(at: Date().ISO8601Format(), passed: event == .checkPassed, detail: reason)
        case .requestSucceeded: break
        }
        return old == new ? nil : (old, new)
    }

    // MARK: Slow start

    func startRamp(at index: Int, in state: inout State) {
        guard slowStart != nil else { return }
        if state.entries[index].rampStart == nil { state.ramping += 1 }
        state.entries[index].rampStart = now()
        state.candidates[index].effectiveWeight = Double(state.candidates[index].weight) * SlowStart.initialFraction
    }

    /// Moves every ramping backend's effective weight to where the clock says; ends finished ramps.
    private func updateRamps(_ state: inout State) {
        guard let slowStart else { return }
        let instant = now()
        for index in state.entries.indices {
            guard let start = state.entries[index].rampStart else { continue }
            let fraction = slowStart.fraction(after: instant - start)
            state.candidates[index].effectiveWeight = Double(state.candidates[index].weight) * fraction
            if fraction >= 1 {
                state.entries[index].rampStart = nil
                state.ramping -= 1
            }
        }
    }

    /// Logged after the lock is released.
    private func log(_ old: BackendHealth, _ new: BackendHealth, address: BackendAddress, event: BackendHealth.Event, reason: String?) {
        var metadata: Logger.Metadata = ["backend": "\(address)", "from": "\(old)", "to": "\(new)", "event": "\(event)"]
        if let reason { metadata["reason"] = .string(reason) }
        // In/out of rotation is what an operator needs to see; suspect/recovering steps are detail.
        let level: Logger.Level = old.inRotation != new.inRotation ? .notice : .info
        logger.log(level: level, "backend \(address) \(old) -> \(new)", metadata: metadata)
    }

    // MARK: Reload

    /// Replaces the backend list (SIGHUP). Kept backends keep their state, counters and requests in flight,
    /// and take their new weight; new ones start healthy (and ramp up with slow start).
    func replace(with backends: [WeightedBackend]) {
        let (added, removed, reweighted) = state.withLock { state in
            let oldCandidates = state.candidates
            let oldEntries = state.entries
            let wanted = Self.unique(backends)
            var candidates: [BalanceCandidate] = []
            var entries: [Entry] = []
            var added: [String] = []
            var reweighted: [String] = []
            state.ramping = 0
            for backend in wanted {
                if let old = oldCandidates.firstIndex(where: { $0.address == backend.address }) {
                    var candidate = oldCandidates[old]
                    if candidate.weight != backend.weight { reweighted.append(backend.description) }
                    candidate.weight = backend.weight
                    candidate.effectiveWeight = Double(backend.weight)
                    candidates.append(candidate)
                    entries.append(oldEntries[old])
                    if oldEntries[old].rampStart != nil { state.ramping += 1 }
                } else {
                    added.append(backend.description)
                    candidates.append(BalanceCandidate(address: backend.address, weight: backend.weight))
                    entries.append(Entry())
                }
            }
            state.candidates = candidates
            state.entries = entries
            state.latencyEjected = entries.filter(\.latency.isEjected).count
            state.balancer.reset()
            for (index, backend) in wanted.enumerated() where added.contains(backend.description) { startRamp(at: index, in: &state) }
            if state.ramping > 0 { updateRamps(&state) }
            let removed = oldCandidates.map(\.address).filter { address in !wanted.contains { $0.address == address } }
            return (added, removed.map(\.description), reweighted)
        }
        logger.notice(
            "backends reloaded",
            metadata: ["added": "\(added)", "removed": "\(removed)", "reweighted": "\(reweighted)", "count": "\(backends.count)"]
        )
    }

    /// A consistent copy of every backend's state, for `/status`, `/metrics` and tests.
    func snapshot() -> [BackendStatus] {
        state.withLock { state in
            if state.ramping > 0 { updateRamps(&state) }
            return state.candidates.indices.map { index in
                let candidate = state.candidates[index]
                let entry = state.entries[index]
                return BackendStatus(
                    address: candidate.address.description,
                    state: entry.health.name,
                    inRotation: entry.inRotation,
                    weight: candidate.weight,
                    effectiveWeight: (candidate.effectiveWeight * 100).rounded() / 100,
                    inFlight: candidate.inFlight,
                    requests: entry.requests,
                    failures: entry.failures,
                    lastCheck: entry.lastCheck,
                    latencyMilliseconds: entry.latency.ewma.map { ($0 * 10_000).rounded() / 10 },
                    latencyEjected: entry.latency.isEjected,
                    latencyEjections: entry.latency.ejections
                )
            }
        }
    }

    /// The first entry for each address wins (a backend listed twice is one backend).
    private static func unique(_ backends: [WeightedBackend]) -> [WeightedBackend] {
        var seen: Set<BackendAddress> = []
        return backends.filter { seen.insert($0.address).inserted }
    }
}
