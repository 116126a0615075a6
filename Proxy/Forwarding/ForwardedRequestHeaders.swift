import HTTPTypes
import NIOHTTP1

/// Builds the header block sent to a backend from the one the client sent.
///
/// - hop-by-hop headers and those named in `Connection` are dropped;
/// - `Content-Length` is dropped too: the client body is re-framed by the upstream client from the
///   length it is given;
/// - `Host` is kept (the client's authority), or set to the backend when the client sent none, so a
///   backend always gets one (nginx's `$host` config sent HTTP/1.1 without `Host`);
/// - `X-Forwarded-For` gets the client address appended to whatever the client sent (one line);
///   `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Real-IP` are overwritten, never trusted from the client;
/// - `X-Request-ID` carries the id this proxy uses for the request.
struct ForwardedRequestHeaders: Sendable {
    var clientAddress: String?
    var scheme = "http"
    var requestID: String

    func headers(for request: HTTPRequest, backend: BackendAddress) -> HTTPHeaders {
        let fields = request.headerFields
        let skipped = HopByHopHeaders.names(connectionValues: fields[values: .connection]).union(Self.replaced)
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 6)
        headers.add(name: "Host", value: request.authority ?? backend.description)
        for field in fields where !skipped.contains(field.name.canonicalName) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        let previous = fields[values: .xForwardedFor]
        let chain = previous + (clientAddress.map { [$0] } ?? [])
        if !chain.isEmpty { headers.add(name: "X-Forwarded-For", value: chain.joined(separator: ", ")) }
        headers.add(name: "X-Forwarded-Proto", value: scheme)
        if let authority = request.authority { headers.add(name: "X-Forwarded-Host", value: authority) }
        if let clientAddress { headers.add(name: "X-Real-IP", value: clientAddress) }
        headers.add(name: "X-Request-ID", value: requestID)
        return headers
    }

    /// Headers this type writes itself; a client's copies are dropped. `Host` is the client's authority,
    /// which Hummingbird already moved out of the field list.
    static let replaced: Set<String> = [
        "host", "content-length", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "x-request-id",
    ]
}

extension HTTPField.Name {
    /// `X-Forwarded-For`.
    static var xForwardedFor: Self { .init("X-Forwarded-For")! }
}
