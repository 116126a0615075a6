import CCurl
import Synchronization

/// One upstream call made on a worker thread, shared by the task that awaits it and the thread that runs it.
///
/// It carries the task's cancellation to the call wherever the call is: still queued for the thread (it answers
/// ``UpstreamError/cancelled(_:)`` at once and never runs) or under way in libcurl (the thread is woken and drops
/// the transfer). Whichever side moves the call to its end resumes the task, exactly once.
final class CurlCall: Sendable {
    typealias Continuation = CheckedContinuation<Result<UpstreamResponse, UpstreamError>, Never>

    private let state = Mutex(CurlCallState.created)

    /// The task hands over its continuation; true when the call is to be given to the thread, false when the task
    /// was cancelled already (the continuation is resumed then).
    func submit(_ continuation: Continuation) -> Bool {
        switch state.withLock({ $0.submit(continuation) }) {
        case .run: return true
        case .resume(let continuation, let result):
            continuation.resume(returning: result)
            return false
        }
    }

    /// The thread is about to perform the call; false when the call was cancelled while queued (it is answered).
    func start(waker: CurlWaker) -> Bool {
        state.withLock { $0.start(waker: waker) }
    }

    /// Whether the thread is to abandon the transfer; read at each of its wake-ups.
    var isCancelled: Bool {
        state.withLock { $0.isCancelled }
    }

    /// The task was cancelled (`withTaskCancellationHandler`); callable from any thread, at any time.
    func cancel() {
        // The waker is used under the lock: the thread ends a running call (in `finish`) under the same lock and
        // destroys its multi handle only after its last call has ended, so the handle is alive while the lock is held.
        let resume: (Continuation, Result<UpstreamResponse, UpstreamError>)? = state.withLock { state in
            switch state.cancel() {
            case .none: return nil
            case .wake(let waker):
                waker.wake()
                return nil
            case .resume(let continuation, let result):
                return (continuation, result)
            }
        }
        if let (continuation, result) = resume { continuation.resume(returning: result) }
    }

    /// The call ended with `result` (or could not be made); the task is resumed unless it was answered already.
    func finish(_ result: Result<UpstreamResponse, UpstreamError>) {
        if let continuation = state.withLock({ $0.finish() }) { continuation.resume(returning: result) }
    }
}

/// The life of a ``CurlCall``: each event is a `mutating` method that says what the caller must do.
enum CurlCallState {
    /// Made; the task has not handed over its continuation yet.
    case created
    /// Cancelled before the task handed over its continuation (the cancellation handler ran first).
    case cancelledEarly
    /// Waiting in the thread's mailbox.
    case queued(CurlCall.Continuation)
    /// In libcurl on the thread, which `waker` interrupts.
    case running(CurlCall.Continuation, CurlWaker)
    /// In libcurl, cancelled: the thread has been woken and abandons the transfer at its next check.
    case stopping(CurlCall.Continuation)
    /// The task has been resumed.
    case done

    static let cancelledResult: Result<UpstreamResponse, UpstreamError> = .failure(
        .cancelled("the calling task was cancelled before the upstream answered; the call was dropped")
    )

    enum SubmitAction {
        case run
        case resume(CurlCall.Continuation, Result<UpstreamResponse, UpstreamError>)
    }

    mutating func submit(_ continuation: CurlCall.Continuation) -> SubmitAction {
        switch self {
        case .created:
            self = .queued(continuation)
            return .run
        case .cancelledEarly:
            self = .done
            return .resume(continuation, Self.cancelledResult)
        case .queued, .running, .stopping, .done:
            preconditionFailure("a CurlCall is submitted once")
        }
    }

    /// True when the thread is to perform the call.
    mutating func start(waker: CurlWaker) -> Bool {
        switch self {
        case .queued(let continuation):
            self = .running(continuation, waker)
            return true
        case .done:
            return false
        case .created, .cancelledEarly, .running, .stopping:
            preconditionFailure("a CurlCall starts once, after it was submitted")
        }
    }

    var isCancelled: Bool {
        switch self {
        case .stopping, .cancelledEarly, .done: true
        case .created, .queued, .running: false
        }
    }

    enum CancelAction {
        case none
        /// Wake the thread (under the call's lock; see ``CurlCall/cancel()``).
        case wake(CurlWaker)
        case resume(CurlCall.Continuation, Result<UpstreamResponse, UpstreamError>)
    }

    mutating func cancel() -> CancelAction {
        switch self {
        case .created:
            self = .cancelledEarly
            return .none
        case .queued(let continuation):
            // Answered now; the thread finds the call done and skips it.
            self = .done
            return .resume(continuation, Self.cancelledResult)
        case .running(let continuation, let waker):
            self = .stopping(continuation)
            return .wake(waker)
        case .cancelledEarly, .stopping, .done:
            return .none
        }
    }

    /// The continuation to resume with the call's result, unless it was resumed already.
    mutating func finish() -> CurlCall.Continuation? {
        switch self {
        case .queued(let continuation), .running(let continuation, _), .stopping(let continuation):
            self = .done
            return continuation
        case .done:
            return nil
        case .created, .cancelledEarly:
            preconditionFailure("a CurlCall finishes after it was submitted")
        }
    }
}

/// Wakes a worker thread out of `curl_multi_poll`, from any thread.
///
/// `@unchecked Sendable` because it holds a raw pointer: it only ever passes it to `curl_multi_wakeup`, which libcurl
/// documents as safe to call from any thread, and ``CurlCall`` calls it only while the call is running, under the lock
/// that the thread takes to end the call, so the handle (destroyed by its thread after the thread's last call) is alive.
struct CurlWaker: @unchecked Sendable {
    let multi: UnsafeMutableRawPointer

    func wake() {
        _ = curl_multi_wakeup(multi)
    }
}
