public import ServiceLifecycle
import Synchronization

/// A fixed pool of threads that serve requests one at a time each, with a bounded FIFO queue: the
/// blocking (WSGI-like) execution model, kept honest.
///
/// A request calls ``withWorker(_:)``: it gets a free thread at once, or waits in line, or is refused
/// with ``WorkerPoolError/overloaded`` when `queueLimit` requests already wait. It then holds the thread
/// for its whole duration, making all its upstream calls on it through the ``CurlWorker`` lease. A
/// waiting request whose task is cancelled leaves the line and never runs; a running one has its curl
/// call dropped at once (the server cancels both at the end of its drain, so the pool stops promptly).
///
/// Threads are plain OS threads rather than Dispatch's global queue (which grows on demand and would
/// hide the limit); cf. NIO's `NIOThreadPool`. As a `Service` the pool stops its threads after the
/// server has drained.
public final class CurlWorkerPool: Service, Sendable {
    private struct State {
        var idle: [Int]
        var waiting: [UInt64: CheckedContinuation<Int, any Error>] = [:]
        /// Arrival order; tickets of requests that left the line are skipped when met.
        var order: [UInt64] = []
        var orderStart = 0
        var nextTicket: UInt64 = 0
        var isShutDown = false

        mutating func popOldestWaiter() -> CheckedContinuation<Int, any Error>? {
            while orderStart < order.count {
                let ticket = order[orderStart]
                orderStart += 1
                if let continuation = waiting.removeValue(forKey: ticket) {
                    compactOrder()
                    return continuation
                }
            }
            compactOrder()
            return nil
        }

        /// Drops consumed tickets once they dominate, so the array does not grow without bound.
        mutating func compactOrder() {
            if orderStart > 64 && orderStart * 2 > order.count {
                order.removeFirst(orderStart)
                orderStart = 0
            }
        }
    }

    /// Most requests allowed to wait for a thread; more are refused. Changed by ``setQueueLimit(_:)``.
    public var queueLimit: Int { queueLimitValue.load(ordering: .relaxed) }
    /// Number of threads.
    public var threadCount: Int { threads.count }

    private let threads: [CurlWorkerThread]
    private let state: Mutex<State>
    private let onQueueChange: @Sendable (_ depth: Int) -> Void
    /// Atomic so an adaptive policy can move the limit while requests arrive; read under `state`'s lock.
    private let queueLimitValue: Atomic<Int>

    /// Starts `threads` threads, each with its own libcurl handle.
    /// - Parameter onQueueChange: called with the number of waiting requests whenever it changes (for a gauge).
    public init(threads: Int, queueLimit: Int, caFile: String? = nil, onQueueChange: @escaping @Sendable (_ depth: Int) -> Void = { _ in }) {
        let count = max(1, threads)
        self.threads = (0..<count).map { CurlWorkerThread(name: "curl-worker-\($0)", caFile: caFile) }
        self.state = Mutex(State(idle: Array((0..<count).reversed())))
        self.queueLimitValue = Atomic(max(0, queueLimit))
        self.onQueueChange = onQueueChange
    }

    /// Sets how many requests may wait from now on; requests already waiting keep their place.
    public func setQueueLimit(_ limit: Int) {
        queueLimitValue.store(max(0, limit), ordering: .relaxed)
    }

    /// Requests currently waiting for a thread.
    public var queueDepth: Int { state.withLock { $0.waiting.count } }

    /// Runs `body` with a thread leased for its whole duration; `queueWait` is how long the request waited.
    public func withWorker<T>(
        _ body: (_ worker: CurlWorker, _ queueWait: Duration) async throws -> T
    ) async throws -> T {
        let start = ContinuousClock.now
        let index = try await acquire()
        defer { release(index) }
        return try await body(CurlWorker(thread: threads[index], index: index), ContinuousClock.now - start)
    }

    private func acquire() async throws -> Int {
        enum Decision {
            case run(Int)
            case wait(UInt64)
            case refuse(WorkerPoolError)
        }
        let decision: Decision = state.withLock { state in
            if state.isShutDown { return .refuse(.shutDown) }
            if let index = state.idle.popLast() { return .run(index) }
            guard state.waiting.count < queueLimit else { return .refuse(.overloaded) }
            state.nextTicket += 1
            return .wait(state.nextTicket)
        }
        switch decision {
        case .run(let index):
            return index
        case .refuse(let error):
            throw error
        case .wait(let ticket):
            return try await waitInLine(ticket)
        }
    }

    private func waitInLine(_ ticket: UInt64) async throws -> Int {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                // Checked under the lock that `onCancel` takes too: either the handler sees the ticket,
                // or this sees the cancellation, never neither.
                let depth: Int? = state.withLock { state in
                    if Task.isCancelled || state.isShutDown { return nil }
                    state.waiting[ticket] = continuation
                    state.order.append(ticket)
                    return state.waiting.count
                }
                if let depth {
                    onQueueChange(depth)
                } else {
                    continuation.resume(throwing: WorkerPoolError.cancelled)
                }
            }
        } onCancel: {
            let removed = state.withLock { state in state.waiting.removeValue(forKey: ticket).map { ($0, state.waiting.count) } }
            if let (continuation, depth) = removed {
                onQueueChange(depth)
                continuation.resume(throwing: WorkerPoolError.cancelled)
            }
        }
    }

    /// Gives the thread to the oldest waiter, or back to the idle set.
    private func release(_ index: Int) {
        let handover: (CheckedContinuation<Int, any Error>, Int)? = state.withLock { state in
            if let next = state.popOldestWaiter() { return (next, state.waiting.count) }
            state.idle.append(index)
            return nil
        }
        if let (continuation, depth) = handover {
            onQueueChange(depth)
            continuation.resume(returning: index)
        }
    }

    /// Waits for graceful shutdown (the server has drained), then stops the threads.
    public func run() async throws {
        try? await gracefulShutdown()
        shutDown()
    }

    /// Refuses new work, fails waiting requests and stops every thread after its current job.
    public func shutDown() {
        let waiters: [CheckedContinuation<Int, any Error>] = state.withLock { state in
            guard !state.isShutDown else { return [] }
            state.isShutDown = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for waiter in waiters { waiter.resume(throwing: WorkerPoolError.shutDown) }
        for thread in threads { thread.stopAndWait() }
    }

    deinit {
        // Threads hold no reference to the pool; without this a pool that never ran would leak them.
        let alreadyStopped = state.withLock { $0.isShutDown }
        if !alreadyStopped { for thread in threads { thread.stopAndWait() } }
    }
}

/// Why ``CurlWorkerPool`` did not run a request.
public struct WorkerPoolError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: Sendable, Equatable {
        case overloaded, cancelled, shutDown
    }

    private let code: Code

    public var description: String {
        switch code {
        case .overloaded: "every worker is busy and the queue is full"
        case .cancelled: "the request was cancelled while waiting for a worker"
        case .shutDown: "the worker pool is shutting down"
        }
    }

    /// Every thread is busy and `queueLimit` requests already wait.
    public static let overloaded = WorkerPoolError(code: .overloaded)
    /// The request left the line (its client went away) before a thread was free.
    public static let cancelled = WorkerPoolError(code: .cancelled)
    /// The pool has stopped.
    public static let shutDown = WorkerPoolError(code: .shutDown)
}
