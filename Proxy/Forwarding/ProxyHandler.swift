import CityscapeKit
import CoreMetrics
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// One client connection of the proxy listener, the last handler of its pipeline: forwards each request
/// to the next healthy backend over a pooled upstream connection of the same event loop, and relays the
/// response, streaming both bodies with backpressure both ways.
///
/// Everything here runs on the connection's event loop, upstream events included, so an exchange is a
/// plain state machine with no locks, tasks or hops. Errors are answered as `ServiceError` JSON.
final class ProxyHandler: ChannelDuplexHandler, UpstreamConnectionDelegate {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let forwarder: Forwarder
    private let upstreams: UpstreamConnectionPool
    private var context: ChannelHandlerContext?
    private var requestHeaders = ForwardedRequestHeaders()
    private var requestIDs = RequestIDGenerator()
    private var exchange: Exchange?
    /// Within a batch of client reads, upstream writes are flushed once, at its read-complete.
    private var readingFromClient = false
    private var upstreamNeedsFlush = false
    /// Held shut while the upstream cannot take more of the request body.
    private var clientReads = ReadGate()

    init(forwarder: Forwarder, upstreams: UpstreamConnectionPool) {
        self.forwarder = forwarder
        self.upstreams = upstreams
    }

    // MARK: Client events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        requestHeaders.clientAddress = context.channel.remoteAddress?.ipAddress
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readingFromClient = true
        switch unwrapInboundIn(data) {
        case .head(let head): start(head)
        case .body(let buffer): receiveBody(buffer)
        case .end: receiveEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readingFromClient = false
        if upstreamNeedsFlush {
            upstreamNeedsFlush = false
            exchange?.upstream?.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            exchange?.upstream?.resumeReads()
        } else {
            exchange?.upstream?.pauseReads()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client is gone: whatever its exchange still holds upstream is abandoned (nginx's 499).
        if let exchange {
            abandonAttempt(of: exchange)
            finishExchange()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            // A reset, or data after a parser error: nothing more can be read from this client.
            context.close(promise: nil)
            return
        }
        guard let exchange else {
            // Between requests: a bare 400, which `ClientConnectionHandler` turns into its JSON answer (431 for
            // an oversized head) before it closes the connection.
            let headers = HTTPHeaders([("Content-Length", "0"), ("Connection", "close")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        // Mid-body: the client's fault, not the backend's, which is left uncharged.
        abandonAttempt(of: exchange)
        if exchange.responseStarted {
            context.close(promise: nil)
        } else {
            answer(RequestGuard.badFraming("the request body was malformed: \(error)"), closing: true)
        }
    }

    func read(context: ChannelHandlerContext) {
        clientReads.read(context)
    }

    // MARK: Request

    private func start(_ head: HTTPRequestHead) {
        forwarder.metrics.requests.increment()
        forwarder.metrics.inFlight.increment()
        let requestID = RequestID.accept(head.headers.first(name: "x-request-id"), generator: &requestIDs)
        do {
            let body = try forwarder.guardrails.check(head)
            let exchange = Exchange(request: head, requestID: requestID, body: body)
            self.exchange = exchange
            // A chunked body is read first, up to the buffered size, so a short one is checked and replayable.
            if body != .chunked { dispatch(exchange) }
        } catch {
            self.exchange = Exchange(request: head, requestID: requestID, body: .none)
            answer(error, closing: true)
        }
    }

    private func receiveBody(_ buffer: ByteBuffer) {
        guard let exchange, !exchange.responseEnded else { return }
        exchange.bodyBytes += buffer.readableBytes
        if exchange.bodyBytes > forwarder.guardrails.limits.maxBodyBytes {
            // Only a chunked body can get here: a declared length over the limit was refused with its head.
            abandonAttempt(of: exchange)
            if exchange.responseStarted {
                context?.close(promise: nil)
            } else {
                answer(RequestGuard.bodyTooLarge(forwarder.guardrails.limits.maxBodyBytes), closing: true)
            }
            return
        }
        exchange.bodyParts.append(buffer)
        if let upstream = exchange.upstream {
            sendPendingBody(of: exchange, to: upstream)
        } else if exchange.body == .chunked && exchange.backend == nil && exchange.bodyBytes >= Forwarder.bufferedBodyBytes {
            dispatch(exchange)
        } else if exchange.unsentBytes >= Forwarder.bufferedBodyBytes {
            // Still connecting: hold the client until there is somewhere to put its body.
            clientReads.close()
        }
    }

    private func receiveEnd() {
        guard let exchange else { return }
        exchange.requestEnded = true
        if exchange.responseEnded {
            finishExchange()
        } else if let upstream = exchange.upstream {
            sendPendingBody(of: exchange, to: upstream)
        } else if exchange.body == .chunked && exchange.backend == nil {
            dispatch(exchange)
        }
    }

    // MARK: Attempts

    /// Starts an attempt on the next backend in rotation, or answers the last failure if none is left.
    private func dispatch(_ exchange: Exchange) {
        guard let backend = forwarder.pool.next(excluding: exchange.tried) else {
            answer(forwarder.error(for: exchange.lastFailure), closing: false)
            return
        }
        if !exchange.tried.isEmpty { forwarder.metrics.retries.increment() }
        exchange.tried.append(backend)
        exchange.backend = backend
        if let connection = upstreams.take(backend) {
            attach(connection, to: exchange)
            return
        }
        upstreams.wait(for: backend) { [self] result in
            let current = self.exchange === exchange && exchange.backend == backend && exchange.upstream == nil
            switch result {
            case .success(let connection):
                guard current, !exchange.responseEnded else {
                    // The client left (or was answered) meanwhile: keep the connection for the next one.
                    connection.release()
                    return
                }
                attach(connection, to: exchange)
            case .failure(let error):
                if current { attemptFailed(exchange, UpstreamFailure(error)) }
            }
        }
    }

    private func attach(_ connection: UpstreamConnection, to exchange: Exchange) {
        guard let backend = exchange.backend else { return }
        exchange.upstream = connection
        connection.delegate = self
        var head = connection.allocator.buffer(capacity: 512)
        requestHeaders.write(exchange.request, body: exchange.body, requestID: exchange.requestID, backend: backend, into: &head)
        connection.writeHead(head, isHEAD: exchange.request.method == .HEAD)
        exchange.sentParts = 0
        exchange.endSent = false
        sendPendingBody(of: exchange, to: connection)
        if connection.isWritable { resumeReads() }
    }

    /// Writes the body parts not sent yet, and the end once the client's body has ended.
    private func sendPendingBody(of exchange: Exchange, to upstream: UpstreamConnection) {
        let chunked = exchange.body == .chunked
        while exchange.sentParts < exchange.bodyParts.count {
            let part = exchange.bodyParts[exchange.sentParts]
            exchange.sentParts += 1
            guard chunked else {
                upstream.write(part)
                continue
            }
            // Re-chunked as received; an empty chunk would read as the end.
            if part.readableBytes == 0 { continue }
            upstream.write(ByteBuffer(string: String(part.readableBytes, radix: 16) + "\r\n"))
            upstream.write(part)
            upstream.write(ByteBuffer(staticString: "\r\n"))
        }
        if !exchange.replayable {
            exchange.bodyParts.removeAll(keepingCapacity: true)
            exchange.sentParts = 0
        }
        if exchange.requestEnded && !exchange.endSent {
            exchange.endSent = true
            if chunked { upstream.write(ByteBuffer(staticString: "0\r\n\r\n")) }
            upstream.startResponseTimer()
        }
        // Outside a batch of client reads (a connect or a retry completing), nothing else would flush.
        if readingFromClient {
            upstreamNeedsFlush = true
        } else {
            upstream.flush()
        }
        // A failed flush may already have moved the exchange on to another backend (a retry).
        if exchange.upstream === upstream && !upstream.isWritable { clientReads.close() }
    }

    /// An attempt failed before its response head: charge the backend, then retry or answer.
    private func attemptFailed(_ exchange: Exchange, _ failure: UpstreamFailure) {
        guard let backend = exchange.backend else { return }
        exchange.upstream?.abandon()
        endAttempt(of: exchange, outcome: failure.healthEvent, reason: failure.summary)
        exchange.lastFailure = failure
        forwarder.logger.info(
            "upstream attempt failed",
            metadata: [
                "backend": "\(backend)", "failure": .string(failure.summary), "attempt": "\(exchange.tried.count)",
                "request_id": .string(exchange.requestID),
            ]
        )
        let retry = forwarder.retryPolicy.shouldRetry(
            failure,
            method: exchange.request.method,
            hasBody: !exchange.replayable,
            retriesSoFar: exchange.tried.count - 1
        )
        if retry {
            dispatch(exchange)
        } else {
            answer(forwarder.error(for: failure), closing: false)
        }
    }

    /// Ends the current attempt without a verdict on the backend (the client's fault, or the client left).
    private func abandonAttempt(of exchange: Exchange) {
        exchange.upstream?.abandon()
        endAttempt(of: exchange)
    }

    /// Detaches the attempt's upstream connection (its caller decides whether it is reused) and ends the
    /// backend's count of it, with the outcome, if any, that its health should hear of.
    private func endAttempt(of exchange: Exchange, outcome: BackendHealth.Event? = nil, reason: String? = nil) {
        exchange.upstream = nil
        if let backend = exchange.backend {
            exchange.backend = nil
            forwarder.pool.finish(backend, outcome: outcome, reason: reason)
        }
    }

    // MARK: Response

    func upstream(_ connection: UpstreamConnection, received part: UpstreamResponsePart) {
        guard let exchange, exchange.upstream === connection, let context else {
            connection.abandon()
            return
        }
        switch part {
        case .head(let head) where head.status.code < 200:
            // 100 Continue and friends go straight through; the final head follows.
            let interim = ForwardedResponseHeaders.head(from: head, version: exchange.request.version, requestID: exchange.requestID, connection: nil)
            context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
        case .head(let head):
            exchange.responseStarted = true
            let http10 = exchange.request.version == .http1_0
            // An HTTP/1.0 client cannot take chunked framing: without a length, the close delimits the body.
            if http10 && head.wire.first("content-length") == nil { exchange.closeAfterResponse = true }
            let connectionValue: String? = exchange.closeAfterResponse ? "close" : (http10 ? "keep-alive" : nil)
            let forwarded = ForwardedResponseHeaders.head(
                from: head,
                version: exchange.request.version,
                requestID: exchange.requestID,
                connection: connectionValue
            )
            context.write(wrapOutboundOut(.head(forwarded)), promise: nil)
        case .body(let buffer):
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable { connection.pauseReads() }
        case .end:
            endAttempt(of: exchange, outcome: .requestSucceeded)
            // A backend that answered before the whole request was sent cannot be reused: it is mid-message.
            if exchange.endSent { connection.release() } else { connection.abandon() }
            exchange.responseEnded = true
            endResponse(of: exchange)
        }
    }

    func upstreamReadComplete(_ connection: UpstreamConnection) {
        context?.flush()
    }

    func upstreamWritabilityChanged(_ connection: UpstreamConnection) {
        guard exchange?.upstream === connection else { return }
        if connection.isWritable { resumeReads() } else { clientReads.close() }
    }

    func upstream(_ connection: UpstreamConnection, failed failure: UpstreamFailure) {
        guard let exchange, exchange.upstream === connection else { return }
        guard exchange.responseStarted else {
            attemptFailed(exchange, failure)
            return
        }
        // Mid-response: too late to tell the client, so it is cut off rather than left waiting.
        endAttempt(of: exchange, outcome: .requestFailed, reason: failure.summary)
        forwarder.logger.info(
            "backend failed mid-response; closing the client connection",
            metadata: ["failure": .string(failure.summary), "request_id": .string(exchange.requestID)]
        )
        context?.close(promise: nil)
    }

    /// Answers the current exchange with an error of the proxy's own (nothing was sent to the client yet).
    private func answer(_ error: ServiceError, closing: Bool) {
        guard let context, let exchange, !exchange.responseStarted else { return }
        forwarder.metrics.error(error.code)
        forwarder.logger.debug(
            "\(exchange.request.method) \(exchange.request.uri) → \(error.status.code) \(error.code): \(error.message)",
            metadata: ["request_id": .string(exchange.requestID)]
        )
        exchange.closeAfterResponse = exchange.closeAfterResponse || closing
        var (head, body) = error.http1Response(closing: exchange.closeAfterResponse)
        head.headers.add(name: "X-Request-ID", value: exchange.requestID)
        exchange.responseStarted = true
        exchange.responseEnded = true
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        endResponse(of: exchange)
    }

    /// Writes the response's end. The exchange is finished first when its request is complete: writing the
    /// end makes the pipelining handler deliver the next pipelined request at once, into this handler.
    private func endResponse(of exchange: Exchange) {
        if exchange.requestEnded { finishExchange() }
        writeEnd(closing: exchange.closeAfterResponse)
        if !exchange.requestEnded { resumeReads() }
    }

    private func writeEnd(closing: Bool) {
        guard let context else { return }
        // Flushed here: the upstream connection is released by now, so its read-complete flush will not come.
        guard closing else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        // Closed only once the end is written: a close fails writes still queued.
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private func finishExchange() {
        guard exchange != nil else { return }
        exchange = nil
        forwarder.metrics.inFlight.decrement()
        resumeReads()
    }

    private func resumeReads() {
        clientReads.open(context)
    }
}

@available(*, unavailable)
extension ProxyHandler: Sendable {}
