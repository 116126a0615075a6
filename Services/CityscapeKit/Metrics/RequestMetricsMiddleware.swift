public import CoreMetrics
public import Hummingbird

/// Counts requests and times them by method, route pattern and status, and tracks requests in flight.
///
/// Labels use the route pattern (`/api/location/{postal_code}/{country}`), never the raw path, so the
/// number of series stays bounded whatever clients send.
public struct RequestMetricsMiddleware: RouterMiddleware {
    public typealias Context = CityscapeRequestContext
    let factory: any MetricsFactory
    let inFlight: Meter

    public init(factory: any MetricsFactory) {
        self.factory = factory
        self.inFlight = Meter(label: "http_requests_in_flight", factory: factory)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        inFlight.increment()
        defer { inFlight.decrement() }
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let dimensions = [
            ("method", request.method.rawValue), ("route", context.endpointPath ?? "unmatched"), ("status", String(response.status.code)),
        ]
        Counter(label: "http_requests_total", dimensions: dimensions, factory: factory).increment()
        Timer(label: "http_request_duration_seconds", dimensions: dimensions, factory: factory).recordNanoseconds(
            (ContinuousClock.now - start).nanoseconds
        )
        return response
    }
}
