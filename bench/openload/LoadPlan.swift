/// How requests are started: on a fixed schedule, or one after another on N connections.
enum LoadPlan: Sendable {
    /// Open loop: request `i` is due at `i / rate` seconds whatever the answers (wrk2, vegeta, k6's arrival rate).
    case openLoop(rate: Double, maxConnections: Int)
    /// Closed loop: each connection sends its next request when the previous one ends (wrk, ab).
    case closedLoop(connections: Int)

    /// The intended start of request `index` in an open-loop run, nanoseconds after the run's start.
    static func intendedStart(of index: Int, rate: Double) -> Int64 {
        Int64((Double(index) * 1e9 / rate).rounded())
    }

    /// How many requests an open-loop run of `duration` nanoseconds schedules.
    static func scheduledCount(rate: Double, duration: Int64) -> Int {
        max(1, Int((rate * Double(duration) / 1e9).rounded(.down)))
    }
}
