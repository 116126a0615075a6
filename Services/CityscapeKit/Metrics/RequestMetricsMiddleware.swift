public import CoreMetrics
public import Hummingbird
import Synchronization

/// Counts requests and times them by method, route pattern and status, and tracks requests in flight.
///
/// Labels use the route pattern (`/api/location/{postal_code}/{country}`), never the raw path, so the
/// number of series stays bounded whatever clients send. The counter and timer of each label set are
/// made once and kept, so a request looks them up instead of building a dimension array and asking
/// the factory (which renders and hashes the labels under its own lock) twice.
public struct RequestMetricsMiddleware: RouterMiddleware {
    public typealias Context = CityscapeRequestContext
    let inFlight: Meter
    private let series: RequestSeries

    public init(factory: any MetricsFactory) {
        self.inFlight = Meter(label: "http_requests_in_flight", factory: factory)
        self.series = RequestSeries(factory: factory)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        inFlight.increment()
        defer { inFlight.decrement() }
        let start = ContinuousClock.now
        let response = try await next(request, context)
        record(request, context: context, status: response.status, elapsed: ContinuousClock.now - start)
        return response
    }

    /// Counts and times one answered request under its method, route pattern and status.
    func record(_ request: Request, context: Context, status: HTTPResponse.Status, elapsed: Duration) {
        let (requests, duration) = series.handles(method: request.method.rawValue, route: context.endpointPath, status: status.code)
        requests.increment()
        duration.recordNanoseconds(elapsed.nanoseconds)
    }
}

/// The `http_requests_total` counter and `http_request_duration_seconds` timer of every label set seen so far.
final class RequestSeries: Sendable {
    private struct Key: Hashable {
        let method: String
        let route: String?
        let status: Int
    }

    private let factory: any MetricsFactory
    private let handles = Mutex<[Key: (Counter, Timer)]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func handles(method: String, route: String?, status: Int) -> (Counter, Timer) {
        let key = Key(method: method, route: route, status: status)
        if let found = handles.withLock({ $0[key] }) { return found }
        let dimensions = [("method", method), ("route", route ?? "unmatched"), ("status", String(status))]
        let made = (
            Counter(label: "http_requests_total", dimensions: dimensions, factory: factory),
            Timer(label: "http_request_duration_seconds", dimensions: dimensions, factory: factory)
        )
        return handles.withLock { handles in
            if let found = handles[key] { return found }
            handles[key] = made
            return made
        }
    }
}
