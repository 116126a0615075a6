import HTTPTypes

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
