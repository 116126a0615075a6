import Foundation
import Logging
import Synchronization

/// The backends, their health and counters, and the round-robin cursor.
///
/// The forwarding path meets it in two calls only, both made by `ProxyHandler` when `ExchangeStateMachine`
/// asks for them: `next(excluding:)` picks the backend of an attempt (and counts it in flight), and
/// `finish(_:outcome:reason:)` ends that count with the attempt's outcome. A balancing policy (least
/// outstanding, power of two choices, weights, slow start) changes what happens inside those two calls,
/// not who calls them or when.
///
/// One `Mutex` guards everything: a pick is a few comparisons over a handful of backends, far cheaper
/// than the request it routes, and one lock keeps "pick + count in flight" atomic. Transitions are
/// logged after the lock is released.
final class BackendPool: Sendable {
    private let state: Mutex<State>
    private let policy: HealthPolicy
    private let logger: Logger

    private struct State {
        var backends: [Entry]
        var cursor = 0
    }

    private struct Entry {
        let address: BackendAddress
        var health: BackendHealth = .healthy
        var inFlight = 0
        var requests = 0
        var failures = 0
        var lastCheck: BackendStatus.Check?
    }

    init(backends: [BackendAddress], policy: HealthPolicy, logger: Logger) {
        self.state = Mutex(State(backends: Self.unique(backends).map { Entry(address: $0) }))
        self.policy = policy
        self.logger = logger
    }

    /// The configured backends, in order.
    var addresses: [BackendAddress] { state.withLock { $0.backends.map(\.address) } }

    /// Whether any backend is in rotation.
    var hasHealthyBackend: Bool { state.withLock { $0.backends.contains { $0.health.inRotation } } }

    /// The next backend in rotation after the cursor, skipping `excluded`; counts the request as in flight.
    func next(excluding excluded: [BackendAddress] = []) -> BackendAddress? {
        state.withLock { state in
            let count = state.backends.count
            for offset in 0..<count {
                let index = (state.cursor + offset) % count
                let entry = state.backends[index]
                guard entry.health.inRotation, !excluded.contains(entry.address) else { continue }
                state.cursor = (index + 1) % count
                state.backends[index].inFlight += 1
                state.backends[index].requests += 1
                return entry.address
            }
            return nil
        }
    }

    /// Ends a request that `next` started (after its response body, or its failure), feeding its outcome,
    /// if any, to the backend's state machine under the same lock.
    func finish(_ address: BackendAddress, outcome: BackendHealth.Event? = nil, reason: String? = nil) {
        let transition: (BackendHealth, BackendHealth)? = state.withLock { state in
            guard let index = state.backends.firstIndex(where: { $0.address == address }) else { return nil }
            state.backends[index].inFlight -= 1
            guard let outcome else { return nil }
            return apply(outcome, to: &state.backends[index], reason: reason)
        }
        if let (old, new) = transition, let outcome { log(old, new, address: address, event: outcome, reason: reason) }
    }

    /// Feeds a request outcome or a check result to the backend's state machine.
    func record(_ event: BackendHealth.Event, for address: BackendAddress, reason: String? = nil) {
        let transition: (BackendHealth, BackendHealth)? = state.withLock { state in
            guard let index = state.backends.firstIndex(where: { $0.address == address }) else { return nil }
            return apply(event, to: &state.backends[index], reason: reason)
        }
        if let (old, new) = transition { log(old, new, address: address, event: event, reason: reason) }
    }

    /// Moves one backend's state; returns the transition when the state changed.
    private func apply(_ event: BackendHealth.Event, to entry: inout Entry, reason: String?) -> (BackendHealth, BackendHealth)? {
        let old = entry.health
        let new = old.next(after: event, rise: policy.rise, fall: policy.fall)
        entry.health = new
        switch event {
        case .requestFailed, .connectionRefused: entry.failures += 1
        case .checkPassed, .checkFailed:
            entry.lastCheck = .init(at: Date().ISO8601Format(), passed: event == .checkPassed, detail: reason)
        case .requestSucceeded: break
        }
        return old == new ? nil : (old, new)
    }

    /// Logged after the lock is released.
    private func log(_ old: BackendHealth, _ new: BackendHealth, address: BackendAddress, event: BackendHealth.Event, reason: String?) {
        var metadata: Logger.Metadata = ["backend": "\(address)", "from": "\(old)", "to": "\(new)", "event": "\(event)"]
        if let reason { metadata["reason"] = .string(reason) }
        // In/out of rotation is what an operator needs to see; suspect/recovering steps are detail.
        let level: Logger.Level = old.inRotation != new.inRotation ? .notice : .info
        logger.log(level: level, "backend \(address) \(old) -> \(new)", metadata: metadata)
    }

    /// Replaces the backend list (SIGHUP); kept backends keep their state and counters, new ones start healthy.
    func replace(with addresses: [BackendAddress]) {
        let (added, removed) = state.withLock { state in
            let old = state.backends
            let wanted = Self.unique(addresses)
            state.backends = wanted.map { address in old.first { $0.address == address } ?? Entry(address: address) }
            state.cursor = 0
            return (wanted.filter { address in !old.contains { $0.address == address } }, old.map(\.address).filter { !wanted.contains($0) })
        }
        logger.notice(
            "backends reloaded",
            metadata: ["added": "\(added.map(\.description))", "removed": "\(removed.map(\.description))", "count": "\(addresses.count)"]
        )
    }

    /// A consistent copy of every backend's state, for `/status` and tests.
    func snapshot() -> [BackendStatus] {
        state.withLock { state in
            state.backends.map {
                BackendStatus(
                    address: $0.address.description,
                    state: $0.health.name,
                    inRotation: $0.health.inRotation,
                    inFlight: $0.inFlight,
                    requests: $0.requests,
                    failures: $0.failures,
                    lastCheck: $0.lastCheck
                )
            }
        }
    }

    private static func unique(_ addresses: [BackendAddress]) -> [BackendAddress] {
        var seen: Set<BackendAddress> = []
        return addresses.filter { seen.insert($0).inserted }
    }
}
