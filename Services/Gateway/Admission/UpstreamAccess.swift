import CityscapeKit
import HTTPTypes
import Metrics
import Synchronization
import UpstreamKit

/// How a request gets an upstream client: the one place where the two modes differ.
protocol UpstreamAccess: Sendable {
    /// Runs `body` with a client once the request is admitted; `queueWait` is nil when there is no queue.
    /// Throws a 503 ``ServiceError`` when the gateway is overloaded, and `ClientGone` instead of running
    /// `body` when `clientIsConnected` says the client left while the request waited.
    func withClient<T: Sendable>(
        clientIsConnected: @Sendable () -> Bool,
        _ body: (_ client: any UpstreamClient, _ queueWait: Duration?) async throws -> T
    ) async throws -> T
}

/// The client closed its connection before its request got a worker; nobody would read the answer.
/// Answered with nginx's 499 for the access log; no client receives it.
enum ClientGone {
    static let error = ServiceError(
        .init(code: 499, reasonPhrase: "Client Closed Request"),
        code: "client_closed_request",
        message: "the client closed the connection while the request waited for a worker; it was not executed"
    )
}

/// Async mode: one shared AsyncHTTPClient; at most `maxInFlight` requests at once, the rest refused at once.
final class AsyncAccess: UpstreamAccess {
    let client: HTTPClientUpstream
    let maxInFlight: Int
    let metrics: GatewayMetrics
    /// Requests admitted and not yet finished; atomic because every request touches it.
    private let admitted = Atomic<Int>(0)

    init(client: HTTPClientUpstream, maxInFlight: Int, metrics: GatewayMetrics) {
        self.client = client
        self.maxInFlight = maxInFlight
        self.metrics = metrics
    }

    func withClient<T: Sendable>(
        clientIsConnected: @Sendable () -> Bool,
        _ body: (_ client: any UpstreamClient, _ queueWait: Duration?) async throws -> T
    ) async throws -> T {
        // Nothing waits in line here: a request runs at once or is refused, so `clientIsConnected` is not needed.
        guard admitted.wrappingAdd(1, ordering: .relaxed).newValue <= maxInFlight else {
            admitted.wrappingSubtract(1, ordering: .relaxed)
            throw Overload.refused(metrics: metrics, reason: "\(maxInFlight) requests are already in flight (--max-in-flight)")
        }
        defer { admitted.wrappingSubtract(1, ordering: .relaxed) }
        return try await body(client, nil)
    }
}

/// Blocking mode: each request waits FIFO for one of the pool's threads and holds it to the end.
struct BlockingAccess: UpstreamAccess {
    let pool: CurlWorkerPool
    let metrics: GatewayMetrics

    func withClient<T: Sendable>(
        clientIsConnected: @Sendable () -> Bool,
        _ body: (_ client: any UpstreamClient, _ queueWait: Duration?) async throws -> T
    ) async throws -> T {
        do {
            return try await pool.withWorker { worker, queueWait in
                metrics.queueWait.recordNanoseconds(queueWait.nanoseconds)
                // Checked when the worker is ours: a request whose client left while it waited is never executed.
                guard clientIsConnected() else {
                    metrics.abandoned.increment()
                    throw ClientGone.error
                }
                return try await body(worker, queueWait)
            }
        } catch let error as WorkerPoolError where error == .overloaded {
            throw Overload.refused(
                metrics: metrics,
                reason: "all \(pool.threadCount) workers are busy and \(pool.queueLimit) requests already wait (--workers, --queue-limit)"
            )
        } catch let error as WorkerPoolError where error == .cancelled {
            metrics.abandoned.increment()
            throw error
        }
    }
}

/// The 503 both modes answer when they shed load.
enum Overload {
    /// Clients should retry after this many seconds; one upstream round trip is about a second in the demo.
    static let retryAfterSeconds = 1

    static func refused(metrics: GatewayMetrics, reason: String) -> ServiceError {
        metrics.shed.increment()
        metrics.recordError(cause: "overloaded")
        return ServiceError(
            .serviceUnavailable,
            code: "overloaded",
            message: "the gateway is at capacity: \(reason); retry later",
            headers: [.retryAfter: String(retryAfterSeconds)]
        )
    }
}
