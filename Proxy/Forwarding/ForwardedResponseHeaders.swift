import NIOHTTP1

/// Builds the response head sent to the client from the one the backend answered with.
///
/// Hop-by-hop headers and those named in the backend's `Connection` are dropped; `Content-Length` is
/// kept so the client sees the same framing when the backend knew the length (the body is streamed
/// either way; without it NIO's encoder answers chunked, or close-delimited to an HTTP/1.0 client).
enum ForwardedResponseHeaders {
    /// - Parameter connection: the `Connection` value this hop needs (`close`, or `keep-alive` for HTTP/1.0), if any.
    static func head(from response: HTTPResponseHead, version: HTTPVersion, requestID: String, connection: String?) -> HTTPResponseHead {
        let hopByHop = HopByHopHeaders(of: response.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(response.headers.count + 2)
        for (name, value) in response.headers where !hopByHop.drops(name) && !HopByHopHeaders.sameName(name, "x-request-id") {
            headers.add(name: name, value: value)
        }
        headers.add(name: "X-Request-ID", value: requestID)
        if let connection { headers.add(name: "Connection", value: connection) }
        return HTTPResponseHead(version: version, status: response.status, headers: headers)
    }
}
