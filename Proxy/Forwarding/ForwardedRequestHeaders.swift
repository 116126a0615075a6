import NIOHTTP1

/// Builds the request head sent to a backend from the one the client sent.
///
/// - hop-by-hop headers and those named in `Connection` are dropped;
/// - framing is re-stated from what `RequestGuard` accepted: `Content-Length` for a known length,
///   `Transfer-Encoding: chunked` for a chunked body (re-chunked by NIO's encoder), nothing otherwise;
/// - `Host` is kept, or set to the backend when the client sent none (HTTP/1.0), so a backend always
///   gets one (nginx's `$host` config sent HTTP/1.1 without `Host`);
/// - `X-Forwarded-For` gets the client address appended to whatever the client sent (one line);
///   `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Real-IP` are overwritten, never trusted from the client;
/// - `X-Request-ID` carries the id this proxy uses for the request.
struct ForwardedRequestHeaders {
    var clientAddress: String?
    var scheme = "http"

    func head(for request: HTTPRequestHead, body: RequestGuard.BodyLength, requestID: String, backend: BackendAddress) -> HTTPRequestHead {
        let hopByHop = HopByHopHeaders(of: request.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headers.count + 7)
        var host: String?
        var forwardedFor: String?
        for (name, value) in request.headers {
            if HopByHopHeaders.sameName(name, "host") {
                host = value
            } else if HopByHopHeaders.sameName(name, "x-forwarded-for") {
                forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
            } else if !Self.isReplaced(name) && !hopByHop.drops(name) {
                headers.add(name: name, value: value)
            }
        }
        headers.add(name: "Host", value: host ?? backend.description)
        switch body {
        case .known(let length): headers.add(name: "Content-Length", value: String(length))
        case .chunked: headers.add(name: "Transfer-Encoding", value: "chunked")
        case .none: break
        }
        if let clientAddress {
            headers.add(name: "X-Forwarded-For", value: forwardedFor.map { $0 + ", " + clientAddress } ?? clientAddress)
        } else if let forwardedFor {
            headers.add(name: "X-Forwarded-For", value: forwardedFor)
        }
        headers.add(name: "X-Forwarded-Proto", value: scheme)
        if let host { headers.add(name: "X-Forwarded-Host", value: host) }
        if let clientAddress { headers.add(name: "X-Real-IP", value: clientAddress) }
        headers.add(name: "X-Request-ID", value: requestID)
        // Always HTTP/1.1 upstream, so the connection can be kept alive whatever the client spoke.
        return HTTPRequestHead(version: .http1_1, method: request.method, uri: request.uri, headers: headers)
    }

    /// Headers this type writes itself; a client's copies are dropped.
    private static func isReplaced(_ name: String) -> Bool {
        replaced.contains { HopByHopHeaders.sameName($0, name) }
    }

    private static let replaced = ["content-length", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "x-request-id"]
}
