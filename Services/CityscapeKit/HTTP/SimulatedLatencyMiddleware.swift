public import Hummingbird
import NIOCore
import NIOPosix

/// Delays API requests by a fixed duration before handling them: the "slow upstream" of the lesson.
///
/// Installed only on the API route group, never on `/healthz` or `/metrics`, so health checks stay
/// fast when a demo makes the API slow. The wait is a timer on an event loop of NIO's shared group,
/// not a `Task.sleep`: the loop already keeps a timer heap for its connections, so a delayed request
/// costs one heap entry. With NIO's loops as the global executor (``EventLoopExecutor``) `any()` is the
/// loop the request runs on, so the request resumes on its own thread, where `Task.sleep` goes through
/// Swift's default timer queue and wakes the task on another thread. It suspends the task; it holds no
/// thread. A cancelled task stops waiting at once, as it would with `Task.sleep`.
public struct SimulatedLatencyMiddleware: RouterMiddleware {
    public typealias Context = CityscapeRequestContext
    let latency: Duration

    public init(latency: Duration) {
        self.latency = latency
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if latency > .zero {
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: latency.timeAmount) {}
            do {
                try await withTaskCancellationHandler {
                    try await timer.futureResult.get()
                } onCancel: {
                    timer.cancel()
                }
            } catch EventLoopError.cancelled {
                throw CancellationError()
            }
        }
        return try await next(request, context)
    }
}
