import NIOCore
import Synchronization

/// A request body stream that fails once more than `limit` bytes went through.
///
/// Used for chunked uploads, whose size is known only while streaming; `exceeded` tells the
/// responder afterwards that the upstream failure was this limit (→ 413), not the backend.
struct LimitedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let limit: Int
    let exceeded: LimitFlag

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int
        let exceeded: LimitFlag
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            seen += buffer.readableBytes
            if seen > limit {
                exceeded.set()
                throw BodyLimitExceeded()
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit, exceeded: exceeded)
    }
}

/// Set once when a body went over its limit.
final class LimitFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Thrown into the upstream request when the client body outgrows `--max-body-bytes`.
struct BodyLimitExceeded: Error {}
