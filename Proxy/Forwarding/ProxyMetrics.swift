import CityscapeKit
import CoreMetrics

/// The proxy's own counters, created once (not per request) so the hot path does no label lookups.
struct ProxyMetrics: Sendable {
    let requests: Counter
    let retries: Counter
    let inFlight: Meter
    private let errors: [String: Counter]

    /// The `code`s of `ServiceError`s the proxy answers with.
    static let errorCodes = [
        "no_healthy_backend", "bad_gateway", "gateway_timeout", "bad_framing", "header_too_large", "body_too_large",
        "bad_request", "request_timeout", "too_many_connections",
    ]

    init(factory: any MetricsFactory) {
        requests = Counter(label: "proxy_requests_total", factory: factory)
        retries = Counter(label: "proxy_retries_total", factory: factory)
        inFlight = Meter(label: "proxy_requests_in_flight", factory: factory)
        var errors: [String: Counter] = [:]
        for code in Self.errorCodes {
            errors[code] = Counter(label: "proxy_errors_total", dimensions: [("code", code)], factory: factory)
        }
        self.errors = errors
    }

    /// Counts an error response by its code.
    func error(_ code: String) {
        errors[code]?.increment()
    }
}
