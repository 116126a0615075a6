import CityscapeKit
import CoreMetrics
import Hummingbird
import Synchronization

/// `proxy_backend_in_flight{backend}`, `proxy_backend_selected_total{backend}` and, with outlier ejection,
/// `proxy_backend_latency_ejections_total{backend}` and `proxy_backend_latency_ewma_seconds{backend}`, read
/// from the pool's own counters when `/metrics` is scraped: the pool already keeps them under the lock a
/// pick takes, so publishing them per request would add a shared write on the hot path for nothing.
final class BackendMetrics: Sendable {
    private let factory: any MetricsFactory
    private let series = Mutex<[String: Series]>([:])

    private struct Series {
        let inFlight: Gauge
        let selected: Counter
        let ejections: Counter
        let latency: Gauge
        /// The pool's `requests` and `latencyEjections` when last published, so the counters only grow by the difference.
        var published: Int
        var publishedEjections = 0
    }

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Publishes every backend's figures; series of backends removed by a reload keep their last values.
    func update(from backends: [BackendStatus]) {
        series.withLock { series in
            for backend in backends {
                var entry =
                    series[backend.address]
                    ?? Series(
                        inFlight: Gauge(label: "proxy_backend_in_flight", dimensions: [("backend", backend.address)], factory: factory),
                        selected: Counter(label: "proxy_backend_selected_total", dimensions: [("backend", backend.address)], factory: factory),
                        ejections: Counter(
                            label: "proxy_backend_latency_ejections_total",
                            dimensions: [("backend", backend.address)],
                            factory: factory
                        ),
                        latency: Gauge(label: "proxy_backend_latency_ewma_seconds", dimensions: [("backend", backend.address)], factory: factory),
                        published: 0
                    )
                entry.inFlight.record(backend.inFlight)
                // A backend removed and added back starts counting from 0 again.
                let growth = backend.requests >= entry.published ? backend.requests - entry.published : backend.requests
                if growth > 0 { entry.selected.increment(by: growth) }
                entry.published = backend.requests
                let ejected = backend.latencyEjections - min(entry.publishedEjections, backend.latencyEjections)
                if ejected > 0 { entry.ejections.increment(by: ejected) }
                entry.publishedEjections = backend.latencyEjections
                if let milliseconds = backend.latencyMilliseconds { entry.latency.record(milliseconds / 1000) }
                series[backend.address] = entry
            }
        }
    }
}

/// Refreshes the per-backend metrics just before `/metrics` renders them.
struct BackendMetricsMiddleware: RouterMiddleware {
    typealias Context = CityscapeRequestContext
    let metrics: BackendMetrics
    let pool: BackendPool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/metrics" { metrics.update(from: pool.snapshot()) }
        return try await next(request, context)
    }
}
