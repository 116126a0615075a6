import NIOHTTP1

/// Builds the response head sent to the client from the one the backend answered with.
///
/// Hop-by-hop headers and those named in the backend's `Connection` are dropped; `Content-Length` is
/// kept so the client sees the same framing when the backend knew the length (the body is streamed
/// either way; without it NIO's encoder answers chunked, or close-delimited to an HTTP/1.0 client).
enum ForwardedResponseHeaders {
    /// - Parameter connection: the `Connection` value this hop needs (`close`, or `keep-alive` for HTTP/1.0), if any.
    static func head(from response: UpstreamResponseHead, version: HTTPVersion, requestID: String, connection: String?) -> HTTPResponseHead {
        let wire = response.wire
        var named: [Range<Int>] = []
        wire.forEachListElement("connection") { token in
            if !wire.matches(token, "close") && !wire.matches(token, "keep-alive") { named.append(token) }
        }
        var headers = HTTPHeaders()
        headers.reserveCapacity(wire.fields.count + 2)
        for field in wire.fields where !isDropped(field.name, in: wire, named: named) {
            headers.add(name: wire.string(field.name), value: wire.string(field.value))
        }
        headers.add(name: "X-Request-ID", value: requestID)
        if let connection { headers.add(name: "Connection", value: connection) }
        return HTTPResponseHead(version: version, status: response.status, headers: headers)
    }

    /// Hop-by-hop (`HopByHopHeaders.fixed`), named in `Connection`, or the backend's `X-Request-ID` (ours replaces it).
    private static func isDropped(_ name: Range<Int>, in wire: WireHead, named: [Range<Int>]) -> Bool {
        wire.matches(name, "connection") || wire.matches(name, "keep-alive") || wire.matches(name, "proxy-connection")
            || wire.matches(name, "proxy-authorization") || wire.matches(name, "proxy-authenticate") || wire.matches(name, "te")
            || wire.matches(name, "trailer") || wire.matches(name, "transfer-encoding") || wire.matches(name, "upgrade")
            || wire.matches(name, "x-request-id") || named.contains { wire.sameBytes($0, name) }
    }
}
