import NIOCore

/// The buffer every read on one loop goes into: read into again as soon as its last reader has let go of
/// it (the common case: the proxy copies what it keeps of a read), replaced by a new one when a reader
/// still holds it. Sized by NIO's `AdaptiveRecvByteBufferAllocator`, as NIO's channels size theirs.
///
/// One buffer rather than NIO's `NIOPooledRecvBufferAllocator`: that pool stores its sizing policy as an
/// existential and searches several buffers for a free one, which costs retains and uniqueness checks on
/// every read; a proxy whose reads are let go of before the next one needs only the first buffer.
/// Loop-confined, like the rest of the loop's state.
struct LoopReadBuffer {
    private var buffer = ByteBuffer()
    private var sizes = AdaptiveRecvByteBufferAllocator()
    private let allocator: ByteBufferAllocator

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
    }

    /// Calls `read` with the space to read into; it returns how many bytes it read (negative: none, an
    /// error). Returns the bytes read and that count.
    mutating func read(_ read: (UnsafeMutableRawBufferPointer) -> Int) -> (bytes: ByteBuffer, count: Int) {
        var count = 0
        let minimum = sizes.nextBufferSize() ?? 1
        let reused: Void? = buffer.modifyIfUniquelyOwned { buffer in
            buffer.clear(minimumCapacity: minimum)
            Self.fill(&buffer, read, &count)
        }
        if reused == nil {
            // The last buffer is still held by a reader, which keeps it alive for as long as it needs.
            buffer = sizes.buffer(allocator: allocator)
            Self.fill(&buffer, read, &count)
        }
        if count > 0 { _ = sizes.record(actualReadBytes: count) }
        return (buffer, count)
    }

    private static func fill(_ buffer: inout ByteBuffer, _ read: (UnsafeMutableRawBufferPointer) -> Int, _ count: inout Int) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { space in
            count = read(space)
            return max(0, count)
        }
    }
}
