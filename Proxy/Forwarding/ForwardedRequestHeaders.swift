import NIOCore
import NIOHTTP1

/// Writes the request head sent to a backend from the one the client sent.
///
/// - hop-by-hop headers and those named in `Connection` are dropped;
/// - framing is re-stated from what `RequestGuard` accepted: `Content-Length` for a known length,
///   `Transfer-Encoding: chunked` for a chunked body (re-chunked by `ProxyHandler`), nothing otherwise;
/// - `Host` is kept, or set to the backend when the client sent none (HTTP/1.0), so a backend always
///   gets one (nginx's `$host` config sent HTTP/1.1 without `Host`);
/// - `X-Forwarded-For` gets the client address appended to whatever the client sent (one line);
///   `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Real-IP` are overwritten, never trusted from the client;
/// - `X-Request-ID` carries the id this proxy uses for the request.
struct ForwardedRequestHeaders {
    var clientAddress: String?
    var scheme = "http"

    /// Writes the head to send upstream, request line to empty line, into `buffer`.
    func write(_ request: HTTPRequestHead, body: RequestGuard.BodyLength, requestID: String, backend: BackendAddress, into buffer: inout ByteBuffer) {
        let hopByHop = HopByHopHeaders(of: request.headers)
        // Always HTTP/1.1 upstream, so the connection can be kept alive whatever the client spoke.
        buffer.writeString(request.method.rawValue)
        buffer.writeStaticString(" ")
        buffer.writeString(request.uri)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        var host: String?
        var forwardedFor: String?
        for (name, value) in request.headers {
            if HopByHopHeaders.sameName(name, "host") {
                host = value
            } else if HopByHopHeaders.sameName(name, "x-forwarded-for") {
                forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
            } else if !Self.isReplaced(name) && !hopByHop.drops(name) {
                Self.writeField(name, value, into: &buffer)
            }
        }
        Self.writeField("Host", host ?? backend.description, into: &buffer)
        switch body {
        case .known(let length): Self.writeField("Content-Length", String(length), into: &buffer)
        case .chunked: buffer.writeStaticString("Transfer-Encoding: chunked\r\n")
        case .none: break
        }
        if let clientAddress {
            Self.writeField("X-Forwarded-For", forwardedFor.map { $0 + ", " + clientAddress } ?? clientAddress, into: &buffer)
        } else if let forwardedFor {
            Self.writeField("X-Forwarded-For", forwardedFor, into: &buffer)
        }
        Self.writeField("X-Forwarded-Proto", scheme, into: &buffer)
        if let host { Self.writeField("X-Forwarded-Host", host, into: &buffer) }
        if let clientAddress { Self.writeField("X-Real-IP", clientAddress, into: &buffer) }
        Self.writeField("X-Request-ID", requestID, into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    private static func writeField(_ name: String, _ value: String, into buffer: inout ByteBuffer) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    /// Headers this type writes itself; a client's copies are dropped.
    private static func isReplaced(_ name: String) -> Bool {
        replaced.contains { HopByHopHeaders.sameName($0, name) }
    }

    private static let replaced = ["content-length", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "x-request-id"]
}
