import Synchronization

/// The one place other threads hand work to an `EpollLoop`: its queue of tasks and whether it has stopped,
/// under one lock, so a task is either queued before the stop (and runs on the loop) or sees the stop.
final class LoopInbox: Sendable {
    typealias Task = @Sendable () -> Void

    private struct State {
        var tasks: [Task] = []
        var stopped = false
        var onStopped: [Task] = []
    }

    private let state = Mutex(State())

    /// What `enqueue` did with a task.
    enum Enqueued {
        /// Queued; `first` when the queue was empty, so a sleeping loop must be woken.
        case queued(first: Bool)
        /// The loop has stopped and takes no more tasks.
        case refused
    }

    func enqueue(_ task: @escaping Task) -> Enqueued {
        state.withLock { state in
            guard !state.stopped else { return .refused }
            state.tasks.append(task)
            return .queued(first: state.tasks.count == 1)
        }
    }

    /// Takes every queued task, in order.
    func takeAll() -> [Task] {
        state.withLock { state in
            guard !state.tasks.isEmpty else { return [] }
            defer { state.tasks.removeAll(keepingCapacity: true) }
            return state.tasks
        }
    }

    var hasTasks: Bool { state.withLock { !$0.tasks.isEmpty } }

    var isStopped: Bool { state.withLock { $0.stopped } }

    /// Registers `callback` for the stop; false (and not registered) when the loop has already stopped.
    func onStop(_ callback: @escaping Task) -> Bool {
        state.withLock { state in
            guard !state.stopped else { return false }
            state.onStopped.append(callback)
            return true
        }
    }

    /// Marks the loop stopped and returns the callbacks waiting for it.
    func stop() -> [Task] {
        state.withLock { state in
            state.stopped = true
            return state.onStopped
        }
    }
}
