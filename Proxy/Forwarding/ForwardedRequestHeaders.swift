import NIOCore

/// Writes the request head sent to a backend from the one the client sent, copying kept field lines as
/// they arrived.
///
/// - hop-by-hop headers, those named in `Connection` and those with an underscore in their name are dropped;
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

    func write(_ request: ClientRequestHead, body: RequestGuard.BodyLength, requestID: String, backend: BackendAddress, into buffer: inout ByteBuffer)
    {
        let wire = request.wire
        let hopByHop = request.hopByHop
        // Always HTTP/1.1 upstream, so the connection can be kept alive whatever the client spoke.
        wire.copy(wire.startLine.0.lowerBound..<wire.startLine.1.upperBound, into: &buffer)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        var host: Range<Int>?
        var forwardedFor: [Range<Int>] = []
        for field in wire.fields {
            switch field.known {
            case .host:
                host = host ?? field.value
            case .xForwardedFor:
                if !field.value.isEmpty { forwardedFor.append(field.value) }
            // Written below from what the proxy decided, never taken from the client; an underscored name is dropped.
            case .contentLength, .xForwardedProto, .xForwardedHost, .xRealIP, .xRequestID, .underscored:
                break
            case .other, .connection, .transferEncoding, .otherHopByHop:
                if !hopByHop.drops(field, in: wire) { wire.copy(field.lineStart..<field.lineEnd, into: &buffer) }
            }
        }
        buffer.writeStaticString("Host: ")
        if let host { wire.copy(host, into: &buffer) } else { buffer.writeString(backend.description) }
        buffer.writeStaticString("\r\n")
        switch body {
        case .known(let length):
            buffer.writeStaticString("Content-Length: ")
            buffer.writeString(String(length))
            buffer.writeStaticString("\r\n")
        case .chunked:
            buffer.writeStaticString("Transfer-Encoding: chunked\r\n")
        case .none:
            break
        }
        if !forwardedFor.isEmpty || clientAddress != nil {
            buffer.writeStaticString("X-Forwarded-For: ")
            for (index, value) in forwardedFor.enumerated() {
                if index > 0 { buffer.writeStaticString(", ") }
                wire.copy(value, into: &buffer)
            }
            if let clientAddress {
                if !forwardedFor.isEmpty { buffer.writeStaticString(", ") }
                buffer.writeString(clientAddress)
            }
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("X-Forwarded-Proto: ")
        buffer.writeString(scheme)
        buffer.writeStaticString("\r\n")
        if let host {
            buffer.writeStaticString("X-Forwarded-Host: ")
            wire.copy(host, into: &buffer)
            buffer.writeStaticString("\r\n")
        }
        if let clientAddress {
            buffer.writeStaticString("X-Real-IP: ")
            buffer.writeString(clientAddress)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("X-Request-ID: ")
        buffer.writeString(requestID)
        buffer.writeStaticString("\r\n\r\n")
    }
}
