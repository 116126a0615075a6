import CityscapeKit
import HTTPTypes
import Logging
import NIOCore

/// What every client connection of the proxy listener shares: the backends, the rules and the counters.
struct Forwarder: Sendable {
    let pool: BackendPool
    let guardrails: RequestGuard
    let retryPolicy: RetryPolicy
    let backendTimeout: Duration
    let metrics: ProxyMetrics
    let logger: Logger

    /// Chunked request bodies up to this size are read and checked before a backend is chosen; a body
    /// up to this size is also kept in memory, so a failed attempt can be replayed on another backend.
    static let bufferedBodyBytes = 64 * 1024

    /// 503 when no backend was available at all, 504 when the last one timed out, 502 otherwise.
    func error(for failure: BackendFailure?) -> ServiceError {
        switch failure {
        case .none:
            return ServiceError(.serviceUnavailable, code: "no_healthy_backend", message: "no healthy backend is available")
        case .timeout:
            return ServiceError(
                .gatewayTimeout,
                code: "gateway_timeout",
                message: "the backend did not answer within \(DurationParser.format(backendTimeout))"
            )
        case .some(let failure):
            return ServiceError(.badGateway, code: "bad_gateway", message: "the backend failed: \(failure.summary)")
        }
    }
}
