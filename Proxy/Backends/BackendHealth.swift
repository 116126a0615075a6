/// The health of one backend: an explicit state machine, one `switch` per event.
///
/// ```
///            failure (< fall)            failure (= fall)
///  healthy ─────────────────▶ suspect(n) ─────────────────▶ ejected
///     ▲  ◀──── success ─────────┘                            │  ▲
///     │                                              check ok │  │ check failed
///     └──────── check ok (= rise) ──── recovering(n) ◀────────┘  │
///                                           └────────────────────┘
/// ```
/// `healthy` and `suspect` are in rotation; `ejected` and `recovering` are not. Only active checks
/// bring a backend back: a request is never used to probe a backend that is out of rotation.
/// A refused connection ejects at once, whatever `fall` says: nothing listens there.
enum BackendHealth: Sendable, Equatable {
    case healthy
    /// In rotation, but `failures` consecutive failures (fewer than `fall`) were seen.
    case suspect(failures: Int)
    /// Out of rotation until checks pass.
    case ejected
    /// Out of rotation; `passes` consecutive checks (fewer than `rise`) passed.
    case recovering(passes: Int)

    /// What happened to the backend.
    enum Event: Sendable, Equatable {
        case checkPassed
        case checkFailed
        /// A proxied request got a response head.
        case requestSucceeded
        /// A proxied request failed at the transport level (timeout, reset).
        case requestFailed
        /// The backend refused the connection: definitely down.
        case connectionRefused
    }

    /// Whether requests may be routed to the backend.
    var inRotation: Bool {
        switch self {
        case .healthy, .suspect: true
        case .ejected, .recovering: false
        }
    }

    /// The state after `event`, given the thresholds.
    func next(after event: Event, rise: Int, fall: Int) -> BackendHealth {
        switch (self, event) {
        case (.healthy, .checkPassed), (.healthy, .requestSucceeded):
            return .healthy
        case (.healthy, .checkFailed), (.healthy, .requestFailed):
            return fall <= 1 ? .ejected : .suspect(failures: 1)
        case (.suspect, .checkPassed), (.suspect, .requestSucceeded):
            return .healthy
        case (.suspect(let failures), .checkFailed), (.suspect(let failures), .requestFailed):
            return failures + 1 >= fall ? .ejected : .suspect(failures: failures + 1)
        case (.healthy, .connectionRefused), (.suspect, .connectionRefused):
            return .ejected
        case (.ejected, .checkPassed):
            return rise <= 1 ? .healthy : .recovering(passes: 1)
        case (.recovering(let passes), .checkPassed):
            return passes + 1 >= rise ? .healthy : .recovering(passes: passes + 1)
        case (.recovering, .checkFailed), (.recovering, .requestFailed), (.recovering, .connectionRefused):
            return .ejected
        case (.ejected, _), (.recovering, .requestSucceeded):
            // Late results of requests sent before the ejection say nothing about recovery.
            return self
        }
    }

    /// The name shown in `/status` and logs.
    var name: String {
        switch self {
        case .healthy: "healthy"
        case .suspect: "suspect"
        case .ejected: "ejected"
        case .recovering: "recovering"
        }
    }
}

extension BackendHealth: CustomStringConvertible {
    var description: String {
        switch self {
        case .healthy, .ejected: name
        case .suspect(let failures): "suspect(failures: \(failures))"
        case .recovering(let passes): "recovering(passes: \(passes))"
        }
    }
}
