import CityscapeKit
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

    func write(
        _ request: ClientRequestHead,
        body: RequestGuard.BodyLength,
        requestID: ProxyRequestID,
        backend: BackendAddress,
        into buffer: inout ByteBuffer
    ) {
        let wire = request.wire
        let hopByHop = request.hopByHop
        var host: Range<Int>?
        var forwardedFor: [Range<Int>] = []
        for field in wire.fields {
            switch field.known {
            case .host: host = host ?? field.value
            case .xForwardedFor where !field.value.isEmpty: forwardedFor.append(field.value)
            default: break
            }
        }
        let backendName = host == nil ? backend.description : ""
        // Every byte of the client's head is copied at most once, except the host (twice) and the
        // X-Forwarded-For values (once more than their lines, which are not copied): twice the head bounds both.
        let bound =
            2 * wire.bytes.readableBytes + backendName.utf8.count + 2 * (clientAddress?.utf8.count ?? 0) + scheme.utf8.count
            + requestID.byteCount + ByteWriter.maxDecimalBytes + Self.fixedBytes
        wire.bytes.withUnsafeReadableBytes { head in
            buffer.write(atMost: bound) { out in
                func copy(_ range: Range<Int>) { out.write(UnsafeRawBufferPointer(rebasing: head[range])) }
                // Always HTTP/1.1 upstream, so the connection can be kept alive whatever the client spoke.
                copy(wire.startLine.0.lowerBound..<wire.startLine.1.upperBound)
                out.write(" HTTP/1.1\r\n")
                for field in wire.fields {
                    switch field.known {
                    // Written below from what the proxy decided, never taken from the client; an underscored name is dropped.
                    case .host, .xForwardedFor, .contentLength, .xForwardedProto, .xForwardedHost, .xRealIP, .xRequestID, .underscored:
                        break
                    case .other, .connection, .transferEncoding, .otherHopByHop:
                        if !hopByHop.drops(field, in: wire) { copy(field.lineStart..<field.lineEnd) }
                    }
                }
                out.write("Host: ")
                if let host { copy(host) } else { out.write(string: backendName) }
                out.write("\r\n")
                switch body {
                case .known(let length):
                    out.write("Content-Length: ")
                    out.write(decimal: length)
                    out.write("\r\n")
                case .chunked:
                    out.write("Transfer-Encoding: chunked\r\n")
                case .none:
                    break
                }
                if !forwardedFor.isEmpty || clientAddress != nil {
                    out.write("X-Forwarded-For: ")
                    for (index, value) in forwardedFor.enumerated() {
                        if index > 0 { out.write(", ") }
                        copy(value)
                    }
                    if let clientAddress {
                        if !forwardedFor.isEmpty { out.write(", ") }
                        out.write(string: clientAddress)
                    }
                    out.write("\r\n")
                }
                out.write("X-Forwarded-Proto: ")
                out.write(string: scheme)
                out.write("\r\n")
                if let host {
                    out.write("X-Forwarded-Host: ")
                    copy(host)
                    out.write("\r\n")
                }
                if let clientAddress {
                    out.write("X-Real-IP: ")
                    out.write(string: clientAddress)
                    out.write("\r\n")
                }
                out.write("X-Request-ID: ")
                out.write(requestID: requestID)
                out.write("\r\n\r\n")
            }
        }
    }

    /// The proxy's own names and separators: more than all of them together.
    private static let fixedBytes = 256
}
