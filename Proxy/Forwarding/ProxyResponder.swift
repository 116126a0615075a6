import AsyncHTTPClient
import CityscapeKit
import CoreMetrics
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Forwards every request to the next healthy backend, streaming both bodies, with bounded retries.
///
/// Errors are answered here (not thrown) as `ServiceError` JSON, because a bare `HTTPResponder`
/// turns anything thrown into an empty 500.
struct ProxyResponder: HTTPResponder {
    typealias Context = ProxyRequestContext

    let client: HTTPClient
    let pool: BackendPool
    let guardrails: RequestGuard
    let retryPolicy: RetryPolicy
    let backendTimeout: Duration
    let metrics: ProxyMetrics

    /// Chunked request bodies up to this size are read and checked before a backend is chosen.
    static let prefetchBytes = 64 * 1024

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = RequestID.accept(request.headers[.xRequestID])
        var logger = context.logger
        logger[metadataKey: "hb.request.id"] = .string(requestID)
        metrics.requests.increment()
        metrics.inFlight.increment()
        defer { metrics.inFlight.decrement() }
        do {
            return try await forward(request, requestID: requestID, context: context, logger: logger)
        } catch {
            metrics.error(error.code)
            logger.debug("\(request.method) \(request.uri.path) → \(error.status.code) \(error.code): \(error.message)")
            var error = error
            error.headers[.xRequestID] = requestID
            return try error.response(from: request, context: context)
        }
    }

    private func forward(_ request: Request, requestID: String, context: Context, logger: Logger) async throws(ServiceError) -> Response {
        let length = try guardrails.check(request.head)
        let headerBuilder = ForwardedRequestHeaders(clientAddress: context.remoteAddress?.ipAddress, requestID: requestID)
        let bodyTracker = ClientBodyTracker()
        var prefetched: ChunkedBodyPrefetch.Prepared?
        if length == .chunked {
            prefetched = try await ChunkedBodyPrefetch.prepare(
                request.body,
                prefetchBytes: Self.prefetchBytes,
                maxBodyBytes: guardrails.limits.maxBodyBytes
            )
        }
        // A body held in memory can be sent again; a consumed stream cannot.
        let replayable: Bool
        switch (length, prefetched) {
        case (.none, _), (_, .complete?): replayable = true
        default: replayable = false
        }
        var tried: [BackendAddress] = []
        var lastFailure: UpstreamFailure?
        while let backend = pool.next(excluding: tried) {
            if !tried.isEmpty { metrics.retries.increment() }
            tried.append(backend)
            var upstream = HTTPClientRequest(url: backend.baseURL + (request.head.path ?? "/"))
            upstream.method = HTTPMethod(rawValue: request.method.rawValue)
            upstream.headers = headerBuilder.headers(for: request.head, backend: backend)
            switch (length, prefetched) {
            case (.none, _): break
            case (.known(let bytes), _):
                let watched = ClientBody(base: request.body, limit: bytes, tracker: bodyTracker)
                upstream.body = .stream(watched, length: .known(Int64(bytes)))
            case (_, .complete(let buffer)?): upstream.body = .bytes(buffer)
            case (_, .streaming(let remaining)?):
                let watched = ClientBody(base: remaining, limit: guardrails.limits.maxBodyBytes, tracker: bodyTracker)
                upstream.body = .stream(watched, length: .unknown)
            case (.chunked, nil): preconditionFailure("chunked bodies are always prefetched")
            }
            do {
                let response = try await client.execute(upstream, deadline: headDeadline(hasBody: length != .none))
                pool.record(.requestSucceeded, for: backend)
                return relay(response, from: backend, requestID: requestID, clientBody: bodyTracker)
            } catch {
                pool.finish(backend)
                // The client's fault, not the backend's: answered as such, and the backend's health is not charged.
                if let problem = bodyTracker.problem {
                    await bodyTracker.close()
                    switch problem {
                    case .tooLarge: throw RequestGuard.bodyTooLarge(guardrails.limits.maxBodyBytes)
                    case .unreadable: throw RequestGuard.badFraming("the request body was malformed or cut off")
                    }
                }
                let failure = UpstreamFailure(error)
                lastFailure = failure
                pool.record(failure.healthEvent, for: backend, reason: failure.summary)
                logger.info(
                    "upstream attempt failed",
                    metadata: ["backend": "\(backend)", "failure": .string(failure.summary), "attempt": "\(tried.count)"]
                )
                let retry = retryPolicy.shouldRetry(failure, method: request.method, hasBody: !replayable, retriesSoFar: tried.count - 1)
                if !retry { break }
            }
        }
        // A failed upload may still be reading the client's body; see `ClientBody`.
        await bodyTracker.close()
        throw Self.error(for: lastFailure, backendTimeout: backendTimeout)
    }

    /// Without a body, the response head must come within `--backend-timeout`. With one, the upload may take
    /// longer than that (a large file): its pace is bounded by the client's `--body-timeout` between reads,
    /// and the client's `read` timeout (`--backend-timeout` too) starts once the body is sent.
    private func headDeadline(hasBody: Bool) -> NIODeadline {
        hasBody ? .distantFuture : .now() + .nanoseconds(backendTimeout.nanoseconds)
    }

    /// The client response: status and end-to-end headers now, the body streamed as it arrives.
    private func relay(_ response: HTTPClientResponse, from backend: BackendAddress, requestID: String, clientBody: ClientBodyTracker) -> Response {
        let pool = self.pool
        let body = ResponseBody { writer in
            // The backend stays "in flight" until its body is through, so `/status` shows real load.
            defer { pool.finish(backend) }
            for try await buffer in response.body {
                try await writer.write(buffer)
            }
            // The response may end before the upload did; see `ClientBody`.
            await clientBody.close()
            try await writer.finish(nil)
        }
        return Response(
            status: .init(code: Int(response.status.code), reasonPhrase: response.status.reasonPhrase),
            headers: ForwardedResponseHeaders.fields(from: response.headers, requestID: requestID),
            body: body
        )
    }

    /// 503 when no backend was available at all, 504 when the last one timed out, 502 otherwise.
    static func error(for failure: UpstreamFailure?, backendTimeout: Duration) -> ServiceError {
        switch failure {
        case .none:
            return ServiceError(.serviceUnavailable, code: "no_healthy_backend", message: "no healthy backend is available")
        case .timeout:
            return ServiceError(
                .gatewayTimeout,
                code: "gateway_timeout",
                message: "the backend did not answer within \(DurationParser.format(backendTimeout))"
            )
        case .some(let failure):
            return ServiceError(.badGateway, code: "bad_gateway", message: "the backend failed: \(failure.summary)")
        }
    }
}
