import CityscapeKit
import NIOCore
import NIOHTTP1

extension ServiceError {
    /// The error as the bytes of a complete HTTP/1.1 answer, for the proxy's byte-level client side.
    /// - Parameters:
    ///   - closing: adds `Connection: close`, for a connection that closes after this answer;
    ///   - withBody: false for a HEAD request, whose answer declares the body's length but has none.
    func http1Bytes(requestID: String?, closing: Bool, withBody: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        let (head, body) = http1Response(closing: closing)
        var bytes = allocator.buffer(capacity: 256 + body.readableBytes)
        bytes.writeString("HTTP/1.1 \(head.status.code) \(head.status.reasonPhrase)\r\n")
        for (name, value) in head.headers {
            bytes.writeString(name)
            bytes.writeStaticString(": ")
            bytes.writeString(value)
            bytes.writeStaticString("\r\n")
        }
        if let requestID {
            bytes.writeStaticString("X-Request-ID: ")
            bytes.writeString(requestID)
            bytes.writeStaticString("\r\n")
        }
        bytes.writeStaticString("\r\n")
        if withBody { bytes.writeImmutableBuffer(body) }
        return bytes
    }
}
