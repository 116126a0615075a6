import HTTPTypes
import NIOCore

/// The answers given at the connection level, before any route: by `ClientConnectionHandler` for the
/// services and by the proxy's own handler, so both say the same thing for the same fault.
extension ServiceError {
    /// 503 on a connection over the listener's `maxConnections`.
    public static func tooManyConnections(limit: Int) -> ServiceError {
        ServiceError(
            .serviceUnavailable,
            code: "too_many_connections",
            message: "the server is at its limit of \(limit) connections; retry shortly",
            headers: [.retryAfter: "1"]
        )
    }

    /// 408 for a request head not complete within `timeout` of its first byte.
    public static func requestHeadTimeout(_ timeout: Duration) -> ServiceError {
        ServiceError(
            .requestTimeout,
            code: "request_timeout",
            message: "the request head was not complete within \(DurationParser.format(timeout))"
        )
    }

    /// 400 for a request the HTTP/1 parser could not read.
    public static func malformedRequest(_ reason: String) -> ServiceError {
        ServiceError(.badRequest, code: "bad_request", message: "malformed HTTP request: \(reason)")
    }

    /// 413 for a request body larger than the server collects.
    public static func bodyTooLarge(limit: Int) -> ServiceError {
        ServiceError(.contentTooLarge, code: "body_too_large", message: "the request body exceeds \(limit) bytes")
    }

    /// RFC 9112 §3.2: an HTTP/1.1 request carries exactly one `Host`, an HTTP/1.0 one at most one.
    /// Returns the 400 a request with `hostCount` Host fields gets, or nil when it is fine.
    public static func hostRule(hostCount: Int, isHTTP10: Bool) -> ServiceError? {
        if hostCount > 1 { return ServiceError(.badRequest, code: "bad_request", message: "more than one Host header") }
        if hostCount == 0 && !isHTTP10 {
            return ServiceError(.badRequest, code: "bad_request", message: "an HTTP/1.1 request needs a Host header")
        }
        return nil
    }
}

extension ServiceError {
    /// The error as a response head and its JSON body, for handlers that answer below the router.
    /// - Parameter closing: adds `Connection: close`, for a connection that closes after this answer.
    func httpResponse(closing: Bool) -> (head: HTTPResponse, body: ByteBuffer) {
        let body = ByteBuffer(bytes: jsonBody())
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(body.readableBytes)
        if closing { fields[.connection] = "close" }
        return (HTTPResponse(status: status, headerFields: fields), body)
    }
}
