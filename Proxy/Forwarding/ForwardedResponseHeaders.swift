import CityscapeKit
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
        requestID: ProxyRequestID,
        connection: StaticString?,
        chunked: Bool,
        into buffer: inout ByteBuffer
    ) {
        let wire = response.wire
        let hopByHop = response.hopByHop
        // Each byte of the backend's head is copied at most once.
        let bound = wire.bytes.readableBytes + requestID.byteCount + Self.fixedBytes
        wire.bytes.withUnsafeReadableBytes { head in
            buffer.write(atMost: bound) { out in
                out.write(version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
                out.write(UnsafeRawBufferPointer(rebasing: head[wire.startLine.1]))
                out.write(" ")
                out.write(UnsafeRawBufferPointer(rebasing: head[wire.startLine.2]))
                out.write("\r\n")
                for field in wire.fields where field.known != .xRequestID && !hopByHop.drops(field, in: wire) {
                    out.write(UnsafeRawBufferPointer(rebasing: head[field.lineStart..<field.lineEnd]))
                }
                out.write("X-Request-ID: ")
                out.write(requestID: requestID)
                out.write("\r\n")
                if let connection {
                    out.write("Connection: ")
                    out.write(connection)
                    out.write("\r\n")
                }
                if chunked { out.write("Transfer-Encoding: chunked\r\n") }
                out.write("\r\n")
            }
        }
    }

    /// The proxy's own names and separators: more than all of them together.
    private static let fixedBytes = 128
}
