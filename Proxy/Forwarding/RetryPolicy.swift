import NIOHTTP1

/// When a failed attempt may be tried again on another backend.
///
/// - nothing was sent (connect refused / unreachable): any method;
/// - connect timeout: idempotent methods only (nothing was sent either, but a slow
///   connect can mean a SYN that is still being processed, so only requests safe to repeat go on);
/// - the connection died after sending, before a response head: idempotent methods whose body, if any,
///   is still held in memory (`hasBody` means a consumed stream that cannot be replayed); this is what
///   keeps GETs error-free when a backend is killed with requests in flight on its pooled connections;
/// - a timeout after sending: never (it costs one `--backend-timeout`, then 504);
/// - a non-idempotent request (POST, PATCH) that may have been sent: never.
struct RetryPolicy: Sendable {
    var maxRetries: Int

    func shouldRetry(_ failure: BackendFailure, method: HTTPMethod, hasBody: Bool, retriesSoFar: Int) -> Bool {
        guard retriesSoFar < maxRetries else { return false }
        switch failure {
        case .connectFailed: return true
        case .connectTimeout: return Self.isIdempotent(method)
        case .closedBeforeResponse: return Self.isIdempotent(method) && !hasBody
        case .timeout, .other: return false
        }
    }

    /// RFC 9110 §9.2.2.
    static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE: true
        default: false
        }
    }
}
