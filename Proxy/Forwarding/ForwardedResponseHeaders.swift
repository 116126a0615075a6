import NIOCore
import NIOHTTP1

/// Writes the response head sent to the client from the one the backend answered with, copying kept field
/// lines as they arrived.
///
/// Hop-by-hop headers and those named in the backend's `Connection` are dropped, and so is the backend's
/// `X-Request-ID` (the proxy's replaces it). `Content-Length` is kept, so the client sees the same framing
/// when the backend knew the length; otherwise `ProxyHandler` re-chunks the body for an HTTP/1.1 client
/// (`chunked: true` here) or delimits it by closing for an HTTP/1.0 one.
enum ForwardedResponseHeaders {
    /// - Parameter connection: the `Connection` value this hop needs (`close`, or `keep-alive` for HTTP/1.0), if any.
    static func write(
        _ response: UpstreamResponseHead,
        version: HTTPVersion,
        requestID: String,
        connection: StaticString?,
        chunked: Bool,
        into buffer: inout ByteBuffer
    ) {
        let wire = response.wire
        let hopByHop = response.hopByHop
        buffer.writeStaticString(version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        wire.copy(wire.startLine.1, into: &buffer)
        buffer.writeStaticString(" ")
        wire.copy(wire.startLine.2, into: &buffer)
        buffer.writeStaticString("\r\n")
        for field in wire.fields where field.known != .xRequestID && !hopByHop.drops(field, in: wire) {
            wire.copy(field.lineStart..<field.lineEnd, into: &buffer)
        }
        buffer.writeStaticString("X-Request-ID: ")
        buffer.writeString(requestID)
        buffer.writeStaticString("\r\n")
        if let connection {
            buffer.writeStaticString("Connection: ")
            buffer.writeStaticString(connection)
            buffer.writeStaticString("\r\n")
        }
        if chunked { buffer.writeStaticString("Transfer-Encoding: chunked\r\n") }
        buffer.writeStaticString("\r\n")
    }
}
