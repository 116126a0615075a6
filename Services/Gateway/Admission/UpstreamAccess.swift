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

/// Async mode: one shared event-loop client (``EventLoopUpstream``); at most `limit` requests at once, the rest refused at once.
final class AsyncAccess: UpstreamAccess {
    let client: any UpstreamClient
    /// Fixed, or following latency (`--max-in-flight auto`); fed with every admitted request's latency.
    let limit: AdmissionLimit
    let metrics: GatewayMetrics
    /// Requests admitted and not yet finished; atomic because every request touches it.
    private let admitted = Atomic<Int>(0)

    init(client: any UpstreamClient, limit: AdmissionLimit, metrics: GatewayMetrics) {
        self.client = client
        self.limit = limit
        self.metrics = metrics
    }

    func withClient<T: Sendable>(
        clientIsConnected: @Sendable () -> Bool,
        _ body: (_ client: any UpstreamClient, _ queueWait: Duration?) async throws -> T
    ) async throws -> T {
        // Nothing waits in line here: a request runs at once or is refused, so `clientIsConnected` is not needed.
        let inFlight = admitted.wrappingAdd(1, ordering: .relaxed).newValue
        let maxInFlight = limit.value
        guard inFlight <= maxInFlight else {
            admitted.wrappingSubtract(1, ordering: .relaxed)
            let setting = limit.isAdaptive ? "--max-in-flight auto, the limit that keeps latency near its no-load value" : "--max-in-flight"
            throw Overload.refused(metrics: metrics, reason: "\(maxInFlight) requests are already in flight (\(setting))")
        }
        // Only an adaptive limit needs the request's latency: a fixed one spares the hot path both clock reads.
        let start: ContinuousClock.Instant? = limit.isAdaptive ? .now : nil
        defer {
            admitted.wrappingSubtract(1, ordering: .relaxed)
            if let start {
                let now = ContinuousClock.now
                limit.record(latency: now - start, inFlight: inFlight, at: now)
            }
        }
        return try await body(client, nil)
    }
}

/// Blocking mode: each request waits FIFO for one of the pool's threads and holds it to the end.
struct BlockingAccess: UpstreamAccess {
    let pool: CurlWorkerPool
    /// The pool's queue limit, fixed or following latency (`--queue-limit auto`); it passes new values to the pool.
    let queueLimit: AdmissionLimit
    let metrics: GatewayMetrics

    func withClient<T: Sendable>(
        clientIsConnected: @Sendable () -> Bool,
        _ body: (_ client: any UpstreamClient, _ queueWait: Duration?) async throws -> T
    ) async throws -> T {
        // The queue this request joins, and its latency from arrival (waiting included), feed `--queue-limit auto`.
        let queued = queueLimit.isAdaptive ? pool.queueDepth : 0
        do {
            return try await pool.withWorker { worker, queueWait in
                let started = ContinuousClock.now
                defer {
                    let now = ContinuousClock.now
                    queueLimit.record(latency: queueWait + (now - started), inFlight: queued, at: now)
                }
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
                reason:
                    "all \(pool.threadCount) workers are busy and \(pool.queueLimit) requests already wait (--workers, --queue-limit\(queueLimit.isAdaptive ? " auto" : ""))"
            )
        } catch let error as WorkerPoolError where error == .cancelled {
            // Only the end of the drain cancels a request: one still waiting for a worker answers 503 `shutting_down`, not run.
            throw CancellationError()
        } catch let error as WorkerPoolError where error == .shutDown {
            throw ServiceError.shuttingDown
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
            // `Connection: close` makes a closed-loop client reconnect before it asks again, instead of turning its
            // connection into a stream of 503s that takes the CPU the admitted requests need.
            headers: [.retryAfter: String(retryAfterSeconds), .connection: "close"]
        )
    }
}
