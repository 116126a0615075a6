import NIOCore
import NIOPosix
import Synchronization

/// The simulated-latency waits of one event loop, in the order they end, woken by one timer at a time.
///
/// Every wait of a `SimulatedLatencyMiddleware` lasts the same duration, so on one loop they end in the order
/// they start: a queue holds them, and a single scheduled task, set for the queue's head, wakes every wait that
/// is due when it fires. A scheduled task per wait costs a promise and two trips through the loop's timer heap,
/// which every connection's own timer makes deep. The timer is set on a tick boundary after the head's end, so
/// one firing serves every wait ending within that tick: a wait ends late by less than a tick, never early.
///
/// `@unchecked Sendable`: the queue and `armed` are read and written only on `eventLoop` (`add` hops there,
/// the timer runs there), so the instance is shared between threads but its state is not.
final class LatencyLine: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let latency: TimeAmount
    private var waits = CircularBuffer<(due: NIODeadline, wait: LatencyWait)>()
    private var armed = false

    static let tick = TimeAmount.milliseconds(1)

    init(eventLoop: any EventLoop, latency: TimeAmount) {
        self.eventLoop = eventLoop
        self.latency = latency
    }

    /// The lines of NIO's shared group, one per loop, for `latency`.
    static func lines(latency: TimeAmount) -> [LatencyLine] {
        MultiThreadedEventLoopGroup.singleton.makeIterator().map { LatencyLine(eventLoop: $0, latency: latency) }
    }

    /// Starts `wait` now and ends it after the latency; called from any thread.
    func add(_ wait: LatencyWait) {
        guard eventLoop.inEventLoop else {
            eventLoop.execute { self.add(wait) }
            return
        }
        guard wait.begin() else { return }  // cancelled before it started
        let due = NIODeadline.now() + latency
        waits.append((due, wait))
        if !armed { arm(for: due) }
    }

    private func arm(for due: NIODeadline) {
        armed = true
        let ticks = (due.uptimeNanoseconds + UInt64(Self.tick.nanoseconds) - 1) / UInt64(Self.tick.nanoseconds)
        eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(ticks * UInt64(Self.tick.nanoseconds))) {
            self.fire()
        }
    }

    private func fire() {
        armed = false
        let now = NIODeadline.now()
        while let head = waits.first, head.due <= now {
            waits.removeFirst().wait.end()
        }
        if let head = waits.first { arm(for: head.due) }
    }
}

/// One request's simulated wait: ended by its line's timer or by the cancellation of its task, whichever is
/// first, from any thread.
final class LatencyWait: Sendable {
    private enum State {
        /// Made, its continuation not yet there.
        case starting
        case waiting(UnsafeContinuation<Void, any Error>)
        case over
    }

    private let state = Mutex(State.starting)

    /// Hands over the continuation to resume; false when the task was cancelled before (then nothing will).
    func start(_ continuation: UnsafeContinuation<Void, any Error>) -> Bool {
        state.withLock { state in
            guard case .starting = state else { return false }
            state = .waiting(continuation)
            return true
        }
    }

    /// Whether the wait is still on when its line takes it (false when it was cancelled meanwhile).
    func begin() -> Bool {
        state.withLock { state in
            if case .over = state { return false }
            return true
        }
    }

    /// The latency has passed.
    func end() {
        take()?.resume()
    }

    /// The request's task is cancelled: its wait ends now, with `CancellationError`.
    func cancel() {
        take()?.resume(throwing: CancellationError())
    }

    private func take() -> UnsafeContinuation<Void, any Error>? {
        state.withLock { state in
            guard case .waiting(let continuation) = state else {
                state = .over
                return nil
            }
            state = .over
            return continuation
        }
    }
}
