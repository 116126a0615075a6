import NIOCore
import Synchronization

/// The client's request body on its way upstream, watched and fenced.
///
/// Watched: when an upstream request fails while its body streams, the cause may be the client (a
/// malformed chunk, a body over `--max-body-bytes`, a client that went away), not the backend;
/// `tracker.problem` says which, so the client gets a 400 or 413 instead of a 502, and the backend's
/// health is not charged for it.
///
/// Fenced: the body is read from the connection's one inbound stream, which allows one reader at a
/// time. The upload may still be reading when the response is already complete (a backend may answer
/// before it read the whole body) — and Hummingbird then reads the rest of the body itself to reach the
/// next request, a second concurrent reader, which traps. `tracker.close()` ends the upload's reading
/// and waits for a read in progress, so the responder returns only once the stream is free.
struct ClientBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let limit: Int
    let tracker: ClientBodyTracker

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int
        let tracker: ClientBodyTracker
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard tracker.beginRead() else { return nil }
            let buffer: ByteBuffer?
            do {
                buffer = try await base.next()
                tracker.endRead(finished: buffer == nil)
            } catch {
                tracker.endRead(finished: true)
                tracker.record(.unreadable)
                throw error
            }
            guard let buffer else { return nil }
            seen += buffer.readableBytes
            if seen > limit {
                tracker.record(.tooLarge)
                throw BodyLimitExceeded()
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit, tracker: tracker)
    }
}

/// Thrown into the upstream request when the client body outgrows `--max-body-bytes`.
struct BodyLimitExceeded: Error {}

/// What went wrong reading a client body, and who is reading it now; see `ClientBody`.
final class ClientBodyTracker: Sendable {
    enum Problem: Sendable, Equatable {
        /// More than `--max-body-bytes`.
        case tooLarge
        /// The client's stream failed: malformed chunked framing or a closed connection.
        case unreadable
    }

    private struct State {
        var problem: Problem?
        var reading = false
        /// Set by `close()`: no read starts any more.
        var closed = false
        /// The stream ended or failed: nothing is left for anyone to read.
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    var problem: Problem? { state.withLock { $0.problem } }

    func record(_ problem: Problem) {
        state.withLock { if $0.problem == nil { $0.problem = problem } }
    }

    /// Whether the upload may read; false once closed.
    fileprivate func beginRead() -> Bool {
        state.withLock { state in
            guard !state.closed && !state.finished else { return false }
            state.reading = true
            return true
        }
    }

    fileprivate func endRead(finished: Bool) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.reading = false
            state.finished = state.finished || finished
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Stops the upload from reading and returns once no read is in progress. A read in progress waits
    /// for the client's next bytes, so this is bounded by the connection's body timeout.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                state.closed = true
                guard state.reading else { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
