import NIOCore

/// The deadlines of one event loop's upstream exchanges, behind a single timer.
///
/// A timer per exchange would put two entries per gateway request into the loop's scheduled-task heap, and
/// cancelling one (every exchange that ends in time) searches that heap linearly. Here an exchange's deadline
/// is appended to a queue kept in deadline order, and one timer waits for the earliest; an exchange that ends
/// in time leaves its entry behind, and the entry is dropped when its deadline comes, where the handler sees
/// that the exchange it names is over. Every call of one gateway has the same timeout and a loop makes its
/// calls one after another, so a new deadline almost always belongs at the end; one that does not (a call
/// that first waited for a connection) gets a timer of its own.
///
/// The timer fires `tolerance` after the earliest deadline and ends every exchange due by then: deadlines a few
/// microseconds apart (a loop under load adds thousands a second) share one timer instead of each arming its
/// own, at the price of a timeout that ends at most `tolerance` late, never early.
///
/// Only its event loop touches it (the pool that owns it runs there).
final class ExchangeDeadlines {
    private typealias Entry = (deadline: NIODeadline, handler: UpstreamExchangeHandler, exchange: UInt64)

    private let eventLoop: any EventLoop
    private let tolerance: TimeAmount
    /// In deadline order, earliest first.
    private var entries = CircularBuffer<Entry>(initialCapacity: 64)
    /// The timer for the earliest entry, and the deadline it was set for.
    private var timer: (scheduled: Scheduled<Void>, deadline: NIODeadline)?

    init(eventLoop: any EventLoop, tolerance: TimeAmount) {
        self.eventLoop = eventLoop
        self.tolerance = tolerance
    }

    /// Times out `exchange` of `handler` at `deadline`, unless it ended by then.
    func add(_ deadline: NIODeadline, handler: UpstreamExchangeHandler, exchange: UInt64) {
        guard let last = entries.last, last.deadline > deadline else {
            entries.append((deadline, handler, exchange))
            armTimer()
            return
        }
        // Earlier than one already queued (its call waited for a new connection): a timer of its own, never
        // cancelled, since inserting into the queue would move the entries after it.
        eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { handler.deadlinePassed(exchange: exchange) }
    }

    /// Sets the timer for the earliest entry, unless it is set for that entry's time or an earlier one already.
    private func armTimer() {
        guard let first = entries.first else { return }
        let fireAt = first.deadline + tolerance
        if let timer, timer.deadline <= fireAt { return }
        timer?.scheduled.cancel()
        // Strong on purpose: the pool that owns this lives as long as the process, and a weak reference would slow
        // every retain of it.
        let scheduled = eventLoop.assumeIsolated().scheduleTask(deadline: fireAt) { self.expire() }
        timer = (scheduled, fireAt)
    }

    private func expire() {
        timer = nil
        let now = eventLoop.now
        while let first = entries.first, first.deadline <= now {
            entries.removeFirst()
            first.handler.deadlinePassed(exchange: first.exchange)
        }
        armTimer()
    }
}
