import NIOCore

/// Chunked transfer coding (RFC 9112 §7.1) on the way out: the proxy re-frames payloads it forwards
/// (a chunked request body upstream, a chunked or close-delimited response to an HTTP/1.1 client).
enum ChunkFraming {
    /// Writes `payload` as one chunk; an empty payload writes nothing (an empty chunk would end the body).
    static func write(_ payload: ByteBuffer, allocator: ByteBufferAllocator, to write: (ByteBuffer) -> Void) {
        guard payload.readableBytes > 0 else { return }
        var size = allocator.buffer(capacity: 18)
        size.writeString(String(payload.readableBytes, radix: 16))
        size.writeStaticString("\r\n")
        write(size)
        write(payload)
        write(crlf)
    }

    /// The last chunk with no trailer fields: the end of the body.
    static let end = ByteBuffer(staticString: "0\r\n\r\n")
    private static let crlf = ByteBuffer(staticString: "\r\n")
}
