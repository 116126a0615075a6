import HTTPTypes
import NIOHTTP1

/// Builds the header block sent to the client from the one the backend answered with.
///
/// Hop-by-hop headers and those named in the backend's `Connection` are dropped; `Content-Length` is
/// kept so the client sees the same framing when the backend knew the length (the body is streamed
/// either way; without it the server answers chunked).
enum ForwardedResponseHeaders {
    static func fields(from headers: HTTPHeaders, requestID: String) -> HTTPFields {
        let skipped = HopByHopHeaders.names(connectionValues: headers["Connection"]).union(["x-request-id"])
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count + 1)
        for (name, value) in headers where !skipped.contains(name.lowercased()) {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        fields.append(HTTPField(name: HTTPField.Name("X-Request-ID")!, value: requestID))
        return fields
    }
}
