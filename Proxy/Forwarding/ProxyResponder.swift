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
        let overLimit = LimitFlag()
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
            case (.known(let bytes), _): upstream.body = .stream(request.body, length: .known(Int64(bytes)))
            case (_, .complete(let buffer)?): upstream.body = .bytes(buffer)
            case (_, .streaming(let remaining)?):
                let limited = LimitedBody(base: remaining, limit: guardrails.limits.maxBodyBytes, exceeded: overLimit)
                upstream.body = .stream(limited, length: .unknown)
            case (.chunked, nil): preconditionFailure("chunked bodies are always prefetched")
            }
            do {
                let response = try await client.execute(upstream, timeout: .nanoseconds(backendTimeout.nanoseconds))
                pool.record(.requestSucceeded, for: backend)
                return relay(response, from: backend, requestID: requestID)
            } catch {
                pool.finish(backend)
                if overLimit.isSet { throw RequestGuard.bodyTooLarge(guardrails.limits.maxBodyBytes) }
                // The client's body broke off or was malformed mid-stream: its fault, not the backend's, so a 400
                // and no health penalty (else truncated uploads could eject healthy backends; found by raw_fuzz.py).
                if error is HTTPParserError { throw RequestGuard.badFraming("the request body ended early or was malformed") }
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
        throw Self.error(for: lastFailure, backendTimeout: backendTimeout)
    }

    /// The client response: status and end-to-end headers now, the body streamed as it arrives.
    private func relay(_ response: HTTPClientResponse, from backend: BackendAddress, requestID: String) -> Response {
        let pool = self.pool
        let body = ResponseBody { writer in
            // The backend stays "in flight" until its body is through, so `/status` shows real load.
            defer { pool.finish(backend) }
            for try await buffer in response.body {
                try await writer.write(buffer)
            }
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
