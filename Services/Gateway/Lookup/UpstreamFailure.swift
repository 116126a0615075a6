import CityscapeKit
import HTTPTypes
import UpstreamKit

/// Turns upstream outcomes into the gateway's answers, and counts each by cause.
///
/// | upstream outcome | answer |
/// |---|---|
/// | location 404 | 404 `postal_code_not_found` |
/// | location 400 | 400 with the location service's code |
/// | connect refused, reset, TLS failure | 502 `location_unavailable` / `sun_unavailable` |
/// | timeout (connect or whole call) | 504 `upstream_timeout` |
/// | no file descriptor left for the connection | 503 `overloaded` with `Retry-After` |
/// | call dropped because the request was cancelled (drain's end) | 503 `shutting_down` with `Retry-After` |
/// | 5xx, other 4xx, invalid JSON | 502 `bad_upstream_response` |
struct UpstreamFailure {
    let upstream: GatewayMetrics.Upstream
    let metrics: GatewayMetrics

    /// A call that produced no response.
    func transport(_ error: UpstreamError) -> ServiceError {
        // The request was cancelled at the end of the drain (the blocking transport drops its call then): no upstream failed.
        if error.isCancelled { return .shuttingDown }
        metrics.recordUpstreamError(upstream, cause: error.cause)
        if error.isOutOfSockets {
            // The gateway's own limit, not the upstream's fault: the client may retry, as after any refusal.
            return Overload.refused(metrics: metrics, reason: "no file descriptor is left for a connection to the \(upstream) service")
        }
        if error.isTimeout {
            metrics.recordError(cause: "timeout")
            return ServiceError(
                .gatewayTimeout,
                code: "upstream_timeout",
                message: "the \(upstream) service did not answer in time (\(error.detail))"
            )
        }
        metrics.recordError(cause: "unavailable")
        return ServiceError(.badGateway, code: "\(upstream)_unavailable", message: "the \(upstream) service cannot be reached: \(error.detail)")
    }

    /// A response the gateway cannot use: an unexpected status or a body that does not parse.
    func badResponse(status: Int, reason: String) -> ServiceError {
        metrics.recordUpstreamError(upstream, cause: status == 200 ? "invalid_body" : "status_\(status)")
        metrics.recordError(cause: "bad_response")
        return ServiceError(.badGateway, code: "bad_upstream_response", message: "the \(upstream) service answered \(status): \(reason)")
    }

    /// An answer the gateway passes on to its client (location 404 or 400).
    func passedOn(_ error: ServiceError, cause: String) -> ServiceError {
        metrics.recordError(cause: cause)
        return error
    }
}
