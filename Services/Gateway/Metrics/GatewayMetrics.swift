import CityscapeKit
import Metrics

/// The gateway's own metrics, on top of the request metrics every service has.
///
/// Series with fixed labels are created once here, so the hot path only increments; the few with a
/// per-event label (error causes) go through the factory, which caches them by label and dimensions.
/// A class: every request hands it to the lookup and the failure mapping, and a reference is one retain where
/// the struct was a copy of every series in it.
final class GatewayMetrics: Sendable {
    /// The two upstreams, as metric label values.
    enum Upstream: String, Sendable, CaseIterable {
        case location, sun
    }

    let factory: any MetricsFactory
    /// API requests being handled, including those waiting for a worker.
    let inFlight: Meter
    /// Blocking mode: requests waiting for a worker thread.
    let queueDepth: Meter
    /// The most requests admitted at once: async, `--max-in-flight` (fixed, or where `auto` has moved it);
    /// blocking, the workers plus the queue limit.
    let inFlightLimit: Meter
    /// Blocking mode: the current `--queue-limit` (fixed, or where `auto` has moved it).
    let queueLimit: Meter
    /// Blocking mode: time from arrival to getting a worker.
    let queueWait: Timer
    /// Requests refused with 503 because of `--queue-limit` or `--max-in-flight`.
    let shed: Counter
    /// Waiting requests dropped because their client went away before a worker was free.
    let abandoned: Counter
    private let location: UpstreamSeries
    private let sun: UpstreamSeries

    /// The series labelled with one upstream.
    private struct UpstreamSeries: Sendable {
        let latency: Timer
        let cacheHits: Counter
        let cacheMisses: Counter

        init(_ upstream: Upstream, factory: any MetricsFactory) {
            let dimensions = [("upstream", upstream.rawValue)]
            latency = Timer(label: "gateway_upstream_duration_seconds", dimensions: dimensions, factory: factory)
            cacheHits = Counter(label: "gateway_cache_hits_total", dimensions: dimensions, factory: factory)
            cacheMisses = Counter(label: "gateway_cache_misses_total", dimensions: dimensions, factory: factory)
        }
    }

    init(factory: any MetricsFactory) {
        self.factory = factory
        inFlight = Meter(label: "gateway_requests_in_flight", factory: factory)
        queueDepth = Meter(label: "gateway_queue_depth", factory: factory)
        inFlightLimit = Meter(label: "gateway_in_flight_limit", factory: factory)
        queueLimit = Meter(label: "gateway_queue_limit", factory: factory)
        queueWait = Timer(label: "gateway_queue_wait_seconds", factory: factory)
        shed = Counter(label: "gateway_shed_requests_total", factory: factory)
        abandoned = Counter(label: "gateway_abandoned_requests_total", factory: factory)
        location = UpstreamSeries(.location, factory: factory)
        sun = UpstreamSeries(.sun, factory: factory)
    }

    private func series(_ upstream: Upstream) -> UpstreamSeries {
        switch upstream {
        case .location: location
        case .sun: sun
        }
    }

    /// Records how long one call to `upstream` took, whatever its outcome.
    func recordLatency(_ upstream: Upstream, _ duration: Duration) {
        series(upstream).latency.recordNanoseconds(duration.nanoseconds)
    }

    /// Counts a failed upstream call by cause (`connection_failed`, `timeout`, `status_503`, `invalid_body`, ...).
    func recordUpstreamError(_ upstream: Upstream, cause: String) {
        Counter(label: "gateway_upstream_errors_total", dimensions: [("upstream", upstream.rawValue), ("cause", cause)], factory: factory).increment()
    }

    /// Counts a request answered with an error, by cause (`bad_request`, `not_found`, `timeout`, `unavailable`, ...).
    func recordError(cause: String) {
        Counter(label: "gateway_errors_total", dimensions: [("cause", cause)], factory: factory).increment()
    }

    func recordCache(_ upstream: Upstream, hit: Bool) {
        let series = series(upstream)
        (hit ? series.cacheHits : series.cacheMisses).increment()
    }
}
