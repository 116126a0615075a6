import CityscapeKit
import Hummingbird
import NIOCore
import Synchronization

/// Reads the start of a chunked request body before any backend is contacted.
///
/// A chunked body's framing (chunk sizes) is only parsed as it is read; streamed straight through, a
/// bad chunk would reach the backend as a truncated request. Reading up to `prefetchBytes` first means
/// small bodies (nearly all API calls) are checked completely, and rejected with 400 or 413, before a
/// backend sees a byte; they are then sent with a known length, like nginx's request buffering. Longer
/// bodies continue as a stream after the prefix, bounded by `LimitedBody`.
enum ChunkedBodyPrefetch {
    /// What to send upstream.
    enum Prepared {
        /// The whole body, read and checked.
        case complete(ByteBuffer)
        /// The first bytes plus the rest of the client stream.
        case streaming(RemainingBody)
    }

    static func prepare(_ body: RequestBody, prefetchBytes: Int, maxBodyBytes: Int) async throws(ServiceError) -> Prepared {
        var iterator = body.makeAsyncIterator()
        var collected = ByteBuffer()
        do {
            while collected.readableBytes <= prefetchBytes {
                guard var next = try await iterator.next() else { return .complete(collected) }
                collected.writeBuffer(&next)
                if collected.readableBytes > maxBodyBytes { throw RequestGuard.bodyTooLarge(maxBodyBytes) }
            }
        } catch let error as ServiceError {
            throw error
        } catch {
            throw RequestGuard.badFraming("malformed chunked body: \(error)")
        }
        return .streaming(RemainingBody(prefix: collected, iterator: iterator))
    }
}

/// The prefetched prefix followed by the rest of the client's body, iterated once by the upstream client.
struct RemainingBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    /// The client body iterator is handed over through a `Mutex`, so the compiler checks that it moves
    /// to exactly one consumer (a second `makeAsyncIterator` gets an empty stream, not a shared one).
    private let handover: Handover

    private final class Handover: Sendable {
        let iterator: Mutex<RequestBody.AsyncIterator?>
        let prefix: ByteBuffer
        init(prefix: ByteBuffer, iterator: consuming sending RequestBody.AsyncIterator) {
            self.prefix = prefix
            self.iterator = Mutex(iterator)
        }
    }

    init(prefix: ByteBuffer, iterator: consuming sending RequestBody.AsyncIterator) {
        self.handover = Handover(prefix: prefix, iterator: iterator)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var prefix: ByteBuffer?
        var rest: RequestBody.AsyncIterator?

        mutating func next() async throws -> ByteBuffer? {
            if let prefix {
                self.prefix = nil
                return prefix
            }
            guard var rest else { return nil }
            let buffer = try await rest.next()
            self.rest = buffer == nil ? nil : rest
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        let rest = handover.iterator.withLock { iterator -> sending RequestBody.AsyncIterator? in
            let taken = iterator.take()
            return taken
        }
        return AsyncIterator(prefix: rest == nil ? nil : handover.prefix, rest: rest)
    }
}
