import CityscapeKit
import CoreMetrics
import EpollKit

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

/// Requests started and finished on one event loop, added to the shared `ProxyMetrics` once per turn of
/// the loop: the shared counters are atomics that both loops would otherwise write on every request,
/// moving their cache line between the cores each time. A request is counted before its answer leaves.
final class RequestTally {
    private let metrics: ProxyMetrics
    private let loop: EpollLoop
    private var hook: Int?
    private var started = 0
    private var finished = 0

    /// Call on `loop`.
    init(metrics: ProxyMetrics, loop: EpollLoop) {
        self.metrics = metrics
        self.loop = loop
        // The loop holds the tally until `stop()`.
        hook = loop.onEachTurn { [self] in publish() }
    }

    /// Publishes what is left and stops (the listener has stopped).
    func stop() {
        publish()
        if let hook { loop.removeTurnHook(hook) }
        hook = nil
    }

    func requestStarted() {
        started += 1
    }

    func requestFinished() {
        finished += 1
    }

    private func publish() {
        guard started != 0 || finished != 0 else { return }
        if started > 0 { metrics.requests.increment(by: started) }
        if started != finished { metrics.inFlight.increment(by: Double(started - finished)) }
        started = 0
        finished = 0
    }
}

@available(*, unavailable)
extension RequestTally: Sendable {}
