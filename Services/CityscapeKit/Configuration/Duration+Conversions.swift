public import NIOCore

extension Duration {
    /// Whole nanoseconds, saturating; for APIs that take integers.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }

    /// A non-negative span in milliseconds with one decimal, rounded half up (`12.3`): the figure of access-log lines
    /// and of the gateway's `Server-Timing`. In integer arithmetic: Foundation's `String(format:)` goes through a
    /// CoreFoundation string per call, and a `Double`'s text could turn to exponent notation.
    public var millisecondsText: String {
        let (seconds, attoseconds) = components
        let tenths = seconds * 10_000 + (attoseconds + 50_000_000_000_000) / 100_000_000_000_000
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// The same span as NIO's `TimeAmount` (timers, timeouts of NIO and AsyncHTTPClient).
    public var timeAmount: TimeAmount { .nanoseconds(nanoseconds) }
}
