public import Hummingbird

/// Delays API requests by a fixed duration before handling them: the "slow upstream" of the lesson.
///
/// Installed only on the API route group, never on `/healthz` or `/metrics`, so health checks stay
/// fast when a demo makes the API slow. The sleep suspends the task; it holds no thread.
public struct SimulatedLatencyMiddleware: RouterMiddleware {
    public typealias Context = CityscapeRequestContext
    let latency: Duration

    public init(latency: Duration) {
        self.latency = latency
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if latency > .zero {
            try await Task.sleep(for: latency)
        }
        return try await next(request, context)
    }
}
