import CityscapeKit
import HTTPTypes
import Metrics
import Synchronization

/// How a request gets an upstream client: the one place where the two modes differ.
protocol UpstreamAccess: Sendable {
    /// Runs `body` with a client once the request is admitted; `queueWait` is nil when there is no queue.
    /// Throws a 503 ``ServiceError`` when the gateway is overloaded.
    func withClient<T: Sendable>(_ body: (_ client: any UpstreamClient, _ queueWait: Duration?) async throws -> T) async throws -> T
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

    func withClient<T: Sendable>(_ body: (_ client: any UpstreamClient, _ queueWait: Duration?) async throws -> T) async throws -> T {
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

    func withClient<T: Sendable>(_ body: (_ client: any UpstreamClient, _ queueWait: Duration?) async throws -> T) async throws -> T {
        do {
            return try await pool.withWorker { worker, queueWait in
                metrics.queueWait.recordNanoseconds(queueWait.nanoseconds)
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
