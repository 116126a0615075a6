public import NIOCore

/// One timer per connection whose deadline moves with every request or read: moving it later costs a clock
/// read, since the scheduled task is replaced only when the deadline moves earlier, and a task that fires
/// before the current deadline re-arms itself for it. So the common case schedules nothing per request.
///
/// Used on one event loop only (the connection's); `onFire` is called there with the action of the
/// deadline that passed. Inlinable, so the proxy's hot path gets it specialised rather than through
/// generic metadata lookups on every call.
public final class DeadlineTimer<Action> {
    @usableFromInline let eventLoop: any EventLoop
    /// Holds the owner strongly (a weak reference would give it a side table, slowing every retain of it);
    /// `stop()` drops it, which breaks the cycle.
    @usableFromInline var onFire: ((Action) -> Void)?
    @usableFromInline var deadline: NIODeadline?
    @usableFromInline var action: Action?
    @usableFromInline var task: Scheduled<Void>?
    @usableFromInline var taskFiresAt = NIODeadline.distantFuture

    /// `onFire` may capture its owner strongly: `stop()`, called when the connection goes away, releases it.
    @inlinable public init(eventLoop: any EventLoop, onFire: @escaping (Action) -> Void) {
        self.eventLoop = eventLoop
        self.onFire = onFire
    }

    @inlinable public var isSet: Bool { deadline != nil }

    /// Sets the deadline to `delay` from now, replacing any earlier one and its action.
    @inlinable public func set(after delay: TimeAmount, _ action: Action) {
        set(at: NIODeadline.now() + delay, action)
    }

    /// Sets the deadline, replacing any earlier one and its action: for a caller that already knows the
    /// time (an event loop's time of its current turn), so no clock is read.
    @inlinable public func set(at deadline: NIODeadline, _ action: Action) {
        self.deadline = deadline
        self.action = action
        if task == nil || deadline < taskFiresAt {
            task?.cancel()
            arm(at: deadline)
        }
    }

    /// Forgets the deadline; the scheduled task, if any, fires later and finds nothing to do.
    @inlinable public func clear() {
        deadline = nil
        action = nil
    }

    /// Clears the deadline, cancels the scheduled task and releases `onFire` (the connection is going away).
    @inlinable public func stop() {
        clear()
        onFire = nil
        task?.cancel()
        task = nil
        taskFiresAt = .distantFuture
    }

    @usableFromInline func arm(at deadline: NIODeadline) {
        taskFiresAt = deadline
        task = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            task = nil
            taskFiresAt = .distantFuture
            guard let due = self.deadline, let action else { return }
            if due > .now() {
                arm(at: due)
                return
            }
            clear()
            onFire?(action)
        }
    }
}

@available(*, unavailable)
extension DeadlineTimer: Sendable {}
