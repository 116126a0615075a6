public import NIOCore

extension Duration {
    /// Whole nanoseconds, saturating; for APIs that take integers.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }

    /// The same span as NIO's `TimeAmount` (timers, timeouts of NIO and AsyncHTTPClient).
    public var timeAmount: TimeAmount { .nanoseconds(nanoseconds) }
}
