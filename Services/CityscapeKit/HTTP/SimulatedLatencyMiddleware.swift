public import Hummingbird
import NIOCore
import NIOPosix

/// Delays API requests by a fixed duration before handling them: the "slow upstream" of the lesson.
///
/// Installed only on the API route group, never on `/healthz` or `/metrics`, so health checks stay
/// fast when a demo makes the API slow. The wait is kept by the event loop the request runs on
/// (``LatencyLine``: its waits end in the order they start, so a queue and one timer serve them all),
/// not by `Task.sleep`: with NIO's loops as the global executor (``EventLoopExecutor``) the request
/// resumes on its own thread, where `Task.sleep` goes through Swift's default timer queue and wakes the
/// task on another thread. It suspends the task; it holds no thread. A cancelled task stops waiting at
/// once, as it would with `Task.sleep`.
public struct SimulatedLatencyMiddleware: RouterMiddleware {
    public typealias Context = CityscapeRequestContext
    let latency: Duration
    private let lines: [LatencyLine]

    public init(latency: Duration) {
        self.latency = latency
        self.lines = latency > .zero ? LatencyLine.lines(latency: latency.timeAmount) : []
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let line = currentLine() {
            let wait = LatencyWait()
            try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { continuation in
                    guard wait.start(continuation) else { return continuation.resume(throwing: CancellationError()) }
                    line.add(wait)
                }
            } onCancel: {
                wait.cancel()
            }
        }
        return try await next(request, context)
    }

    /// The line of the loop this task runs on, or the first when it runs elsewhere (Swift's default executor).
    private func currentLine() -> LatencyLine? {
        guard let first = lines.first else { return nil }
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else { return first }
        return lines.first { $0.eventLoop === loop } ?? first
    }
}
