public import CoreMetrics
public import Hummingbird

/// The outer chain of every service router in one middleware: `RequestIDMiddleware`, `AccessLogMiddleware`,
/// `RequestMetricsMiddleware` and `ErrorMiddleware`, nested in that order, outermost first.
///
/// Each middleware of a Hummingbird `Router` is called through an existential, with its own async frame and
/// a copy of the request and the context, which costs more than what most of these do. Here their steps run
/// in one frame, with the same outcome as the four nested: the request id is on every line and response, the
/// access log and metrics see the final status of failed requests too, and an error that escapes the error
/// mapping is neither counted nor logged. The four stay usable alone (the proxy's admin router uses two).
public struct ServiceMiddleware: RouterMiddleware {
    public typealias Context = CityscapeRequestContext
    let metrics: RequestMetricsMiddleware

    public init(metricsFactory: any MetricsFactory) {
        self.metrics = RequestMetricsMiddleware(factory: metricsFactory)
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = RequestIDMiddleware.assign(request, to: &context)
        metrics.inFlight.increment()
        defer { metrics.inFlight.decrement() }
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = try ErrorMiddleware.response(for: error, request: request, context: context)
        }
        let elapsed = ContinuousClock.now - start
        metrics.record(request, context: context, status: response.status, elapsed: elapsed)
        AccessLogMiddleware.log(request, status: response.status, elapsed: elapsed, logger: context.logger)
        response.headers[.xRequestID] = requestID
        return response
    }
}
