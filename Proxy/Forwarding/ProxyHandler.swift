import CityscapeKit
import CoreMetrics
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// One client connection of the proxy listener: reads requests from the client's bytes (`HeadScanner`,
/// `BodyDecoder`), forwards each to the next healthy backend over a pooled upstream connection of the same
/// event loop, and writes the response back as bytes, streaming both bodies with backpressure both ways.
///
/// Everything here runs on the connection's event loop, upstream events included, so an exchange is a
/// plain state machine with no locks, tasks or hops. Errors are answered as `ServiceError` JSON.
///
/// It also guards the connection, as `ClientConnectionHandler` does for the services: the connection
/// limit (503), `Host` rules (400), header, body and idle timeouts (408 or close), malformed heads (400,
/// 431), and graceful shutdown (a busy connection closes after a response saying `Connection: close`,
/// an idle one after `idleCloseGrace` unless a request starts meanwhile).
final class ProxyHandler: TCPConnectionDelegate, UpstreamConnectionDelegate {
    /// Pipelined bytes held while a response is in progress before the client is no longer read from.
    static let maxPipelinedBytes = 64 * 1024

    private let forwarder: Forwarder
    private let upstreams: UpstreamConnectionPool
    private let tally: RequestTally
    private let policy: ConnectionPolicy
    private let overCapacity: Bool
    /// Nil once the connection has closed.
    private var connection: TCPConnection?
    private let allocator: ByteBufferAllocator
    private let onClose: () -> Void
    /// Reused for every head written, when the previous one has been sent (it usually has).
    private var requestHeadBuffer = ByteBuffer()
    private var responseHeadBuffer = ByteBuffer()
    /// The response head is in `responseHeadBuffer`, not written yet: a small body read with it joins it, so
    /// the answer goes out as one buffer in one `send`.
    private var responseHeadPending = false
    static let maxJoinedBodyBytes = 16 * 1024
    private var timer: DeadlineTimer<ConnectionTimerAction>?
    private var requestHeaders = ForwardedRequestHeaders()
    private var requestIDs = RequestIDGenerator()

    /// Client bytes not parsed yet: the rest of the current request, then pipelined ones.
    private var received = ByteBuffer()
    private var heads: HeadScanner
    /// The current request's body, while it is being read.
    private var requestBody: BodyDecoder?
    /// Whether the header timeout runs for a head that has started to arrive.
    private var awaitingHead = false
    private var exchange: Exchange?
    /// The connection closes once what is written is out; nothing more is read or answered.
    private var closing = false
    private var quiescing = false
    /// `processReceived` is on the stack: whatever it would be asked to do again, its loop does next.
    private var processing = false
    /// Within a batch of client reads, upstream writes are flushed once, at its read-complete.
    private var readingFromClient = false
    private var upstreamNeedsFlush = false
    /// Takes over `connection`, just accepted; `onClose` is called once it has closed.
    init(
        connection: TCPConnection,
        forwarder: Forwarder,
        upstreams: UpstreamConnectionPool,
        tally: RequestTally,
        policy: ConnectionPolicy,
        overCapacity: Bool,
        onClose: @escaping () -> Void
    ) {
        self.connection = connection
        self.forwarder = forwarder
        self.upstreams = upstreams
        self.tally = tally
        self.policy = policy
        self.overCapacity = overCapacity
        self.onClose = onClose
        allocator = connection.loop.allocator
        heads = HeadScanner(kind: .request, limit: forwarder.guardrails.limits.maxHeaderBytes)
        connection.delegate = self
        requestHeadBuffer = allocator.buffer(capacity: 1024)
        responseHeadBuffer = allocator.buffer(capacity: 1024)
        requestHeaders.clientAddress = connection.remoteIP
        timer = DeadlineTimer(eventLoop: connection.loop) { [self] action in
            switch action {
            case .close: close()
            case .headerTimedOut: headerTimedOut()
            case .bodyTimedOut: bodyTimedOut()
            }
        }
        // A connection over the limit gets one header timeout to send the request its 503 answers.
        if overCapacity {
            timer?.set(after: policy.headerTimeout.timeAmount, .close)
        } else if let idle = policy.idleTimeout {
            timer?.set(after: idle.timeAmount, .close)
        }
    }

    // MARK: Client events

    func connectionRead(_ buffer: ByteBuffer) {
        guard !closing else { return }
        if received.readableBytes == 0 {
            received = buffer
        } else {
            received.writeImmutableBuffer(buffer)
        }
        if requestBody != nil { timer?.set(after: policy.bodyTimeout.timeAmount, .bodyTimedOut) }
        readingFromClient = true
        processReceived()
    }

    func connectionReadComplete() {
        readingFromClient = false
        if upstreamNeedsFlush {
            upstreamNeedsFlush = false
            exchange?.upstream?.flush()
        }
    }

    func connectionWritabilityChanged() {
        if connection?.isWritable == true {
            exchange?.upstream?.resumeReads()
        } else {
            exchange?.upstream?.pauseReads()
        }
    }

    /// The client closed, reset, or was closed by `close()`.
    func connectionClosed(_ error: (any Error)?) {
        timer?.stop()
        connection = nil
        // The client is gone: whatever its exchange still holds upstream is abandoned (nginx's 499).
        closing = true
        if let exchange {
            abandonAttempt(of: exchange)
            finishExchange()
        }
        onClose()
    }

    /// The listener is shutting down.
    func quiesce() {
        guard !closing, !quiescing else { return }
        // Closing an idle connection at once would race a request the client may be sending right then
        // (the requests nginx drops on reload): a busy one closes after its response, an idle one after a grace.
        quiescing = true
        if let exchange {
            // A response whose head is already out without `Connection: close` cannot end the connection:
            // it is finished as usual, then the connection gets the idle grace (`finishExchange`).
            if !exchange.responseStarted { exchange.closeAfterResponse = true }
        } else if requestBody == nil && received.readableBytes == 0 {
            timer?.set(after: policy.idleCloseGrace.timeAmount, .close)
        }
    }

    // MARK: Request

    /// Reads what `received` holds: the current request's body, else the next request's head. A request
    /// read while a response is in progress waits, pipelined, until that exchange finishes.
    private func processReceived() {
        guard !processing else { return }
        processing = true
        defer {
            processing = false
            // Let go of a consumed read buffer, so the loop can read into it again instead of allocating another.
            if received.readableBytes == 0 { received = ByteBuffer() }
        }
        while !closing && connection != nil {
            if var decoder = requestBody {
                let output: BodyDecoder.Output?
                do {
                    output = try decoder.next(from: &received)
                } catch {
                    requestBody = nil
                    clientBodyFailed(error.reason)
                    return
                }
                requestBody = decoder
                switch output {
                case nil:
                    return
                case .data(let bytes):
                    receiveBody(bytes)
                case .end:
                    requestBody = nil
                    timer?.clear()
                    receiveEnd()
                }
                continue
            }
            if exchange != nil {
                if received.readableBytes > Self.maxPipelinedBytes { connection?.pauseReads() }
                return
            }
            guard received.readableBytes > 0 else { return }
            let wire: WireHead?
            do {
                wire = try heads.next(from: &received)
            } catch {
                rejectHead(error)
                return
            }
            guard let wire else {
                // Part of a head: it must be complete within the header timeout of its first byte.
                if !awaitingHead && !overCapacity {
                    awaitingHead = true
                    timer?.set(after: policy.headerTimeout.timeAmount, .headerTimedOut)
                }
                return
            }
            awaitingHead = false
            timer?.clear()
            start(ClientRequestHead(wire))
        }
    }

    private func start(_ request: ClientRequestHead) {
        tally.requestStarted()
        let requestID = RequestID.accept(request.wire.first(.xRequestID).map { request.wire.string($0.value) }, generator: &requestIDs)
        do throws(ServiceError) {
            if overCapacity { throw .tooManyConnections(limit: policy.maxConnections) }
            let body = try forwarder.guardrails.check(request)
            let exchange = Exchange(request: request, requestID: requestID, body: body)
            self.exchange = exchange
            if quiescing { exchange.closeAfterResponse = true }
            if body == .none {
                exchange.requestEnded = true
            } else {
                requestBody = BodyDecoder(body.framing)
                timer?.set(after: policy.bodyTimeout.timeAmount, .bodyTimedOut)
            }
            // A chunked body is read first, up to the buffered size, so a short one is checked and replayable.
            if body != .chunked { dispatch(exchange) }
        } catch {
            let exchange = Exchange(request: request, requestID: requestID, body: .none)
            exchange.requestEnded = true
            self.exchange = exchange
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
                close()
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
            connection?.pauseReads()
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

    /// A malformed chunk: the client's fault, not the backend's, which is left uncharged.
    private func clientBodyFailed(_ reason: String) {
        guard let exchange else { return close() }
        abandonAttempt(of: exchange)
        if exchange.responseStarted {
            close()
        } else {
            answer(RequestGuard.badFraming("the request body was malformed: \(reason)"), closing: true)
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
        requestHeadBuffer.clear()
        requestHeaders.write(exchange.request, body: exchange.body, requestID: exchange.requestID, backend: backend, into: &requestHeadBuffer)
        connection.writeHead(requestHeadBuffer, isHEAD: exchange.request.method == .HEAD)
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
            if chunked {
                ChunkFraming.write(part, allocator: allocator) { upstream.write($0) }
            } else {
                upstream.write(part)
            }
        }
        if !exchange.replayable {
            exchange.bodyParts.removeAll(keepingCapacity: true)
            exchange.sentParts = 0
        }
        if exchange.requestEnded && !exchange.endSent {
            exchange.endSent = true
            if chunked { upstream.write(ChunkFraming.end) }
            upstream.startResponseTimer()
        }
        // Outside a batch of client reads (a connect or a retry completing), nothing else would flush.
        if readingFromClient {
            upstreamNeedsFlush = true
        } else {
            upstream.flush()
        }
        // A failed flush may already have moved the exchange on to another backend (a retry).
        if exchange.upstream === upstream && !upstream.isWritable { connection?.pauseReads() }
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
        guard let exchange, exchange.upstream === connection, let client = self.connection else {
            connection.abandon()
            return
        }
        switch part {
        case .head(let head) where head.status.code < 200:
            // 100 Continue and friends go straight through to an HTTP/1.1 client; the final head follows.
            guard exchange.request.version == .http1_1 else { return }
            responseHeadBuffer.clear()
            ForwardedResponseHeaders.write(
                head,
                version: .http1_1,
                requestID: exchange.requestID,
                connection: nil,
                chunked: false,
                into: &responseHeadBuffer
            )
            client.write(responseHeadBuffer)
            client.flush()
        case .head(let head):
            exchange.responseStarted = true
            let http10 = exchange.request.version == .http1_0
            if head.framing == .chunked || head.framing == .untilClose {
                // No length the client can rely on: re-chunked for HTTP/1.1; for HTTP/1.0 the close delimits it.
                if http10 { exchange.closeAfterResponse = true } else { exchange.responseChunked = true }
            }
            if quiescing { exchange.closeAfterResponse = true }
            let connectionValue: StaticString? = exchange.closeAfterResponse ? "close" : (http10 ? "keep-alive" : nil)
            responseHeadBuffer.clear()
            ForwardedResponseHeaders.write(
                head,
                version: exchange.request.version,
                requestID: exchange.requestID,
                connection: connectionValue,
                chunked: exchange.responseChunked,
                into: &responseHeadBuffer
            )
            responseHeadPending = true
        case .body(let buffer):
            if responseHeadPending && !exchange.responseChunked && buffer.readableBytes <= Self.maxJoinedBodyBytes {
                responseHeadBuffer.writeImmutableBuffer(buffer)
                writePendingHead()
            } else if exchange.responseChunked {
                writePendingHead()
                ChunkFraming.write(buffer, allocator: allocator) { client.write($0) }
            } else {
                writePendingHead()
                client.write(buffer)
            }
            if !client.isWritable { connection.pauseReads() }
        case .end:
            writePendingHead()
            endAttempt(of: exchange, outcome: .requestSucceeded)
            // A backend that answered before the whole request was sent cannot be reused: it is mid-message.
            if exchange.endSent { connection.release() } else { connection.abandon() }
            exchange.responseEnded = true
            endResponse(of: exchange)
        }
    }

    func upstreamReadComplete(_ connection: UpstreamConnection) {
        writePendingHead()
        self.connection?.flush()
    }

    func upstreamWritabilityChanged(_ connection: UpstreamConnection) {
        guard exchange?.upstream === connection else { return }
        if connection.isWritable { resumeReads() } else { self.connection?.pauseReads() }
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
        close()
    }

    private func writePendingHead() {
        guard responseHeadPending, let connection else { return }
        responseHeadPending = false
        connection.write(responseHeadBuffer)
    }

    /// Answers the current exchange with an error of the proxy's own (nothing was sent to the client yet).
    private func answer(_ error: ServiceError, closing: Bool) {
        guard let connection, let exchange, !exchange.responseStarted else { return }
        forwarder.metrics.error(error.code)
        forwarder.logger.debug(
            "\(exchange.request.method) \(exchange.request.uri) → \(error.status.code) \(error.code): \(error.message)",
            metadata: ["request_id": .string(exchange.requestID)]
        )
        exchange.closeAfterResponse = exchange.closeAfterResponse || closing || quiescing
        exchange.responseStarted = true
        exchange.responseEnded = true
        let bytes = error.http1Bytes(
            requestID: exchange.requestID,
            closing: exchange.closeAfterResponse,
            withBody: exchange.request.method != .HEAD,
            allocator: allocator
        )
        connection.write(bytes)
        endResponse(of: exchange)
    }

    /// Ends the response: the last chunk if re-chunked, then the flush; the connection closes after it when it
    /// must, else the exchange is finished (if its request is complete) and a pipelined request may start.
    private func endResponse(of exchange: Exchange) {
        guard let connection else { return }
        if exchange.responseChunked { connection.write(ChunkFraming.end) }
        // Only a response that said so closes the connection: a client may send its next request on one
        // that did not, the moment it has read it.
        if exchange.closeAfterResponse {
            closing = true
            connection.closeAfterFlush()
            return
        }
        connection.flush()
        if exchange.requestEnded {
            finishExchange()
        } else {
            // The rest of the request body is read and dropped.
            resumeReads()
        }
    }

    private func finishExchange() {
        guard exchange != nil else { return }
        exchange = nil
        tally.requestFinished()
        guard !closing else { return }
        resumeReads()
        if received.readableBytes == 0 {
            if quiescing {
                timer?.set(after: policy.idleCloseGrace.timeAmount, .close)
            } else if let idle = policy.idleTimeout {
                timer?.set(after: idle.timeAmount, .close)
            }
        }
        // A pipelined request may be waiting in `received`.
        processReceived()
    }

    // MARK: Connection-level answers and closing

    /// A head that could not be parsed: answered, then the connection closes (the rest of the input cannot be framed).
    private func rejectHead(_ failure: HeadScanner.Failure) {
        let error: ServiceError =
            switch failure {
            case .tooLarge: .headerTooLarge(limit: forwarder.guardrails.limits.maxHeaderBytes)
            case .unsupportedVersion: .malformedRequest("only HTTP/1.0 and HTTP/1.1 are served")
            case .malformed(let reason): .malformedRequest(reason)
            }
        answerAndClose(error)
    }

    private func headerTimedOut() {
        guard exchange == nil else { return close() }
        answerAndClose(.requestHeadTimeout(policy.headerTimeout))
    }

    private func bodyTimedOut() {
        // A response to this request may be under way; writing another would corrupt it, so just close.
        forwarder.metrics.error("request_timeout")
        close()
    }

    /// Answers outside any exchange (no request was read), then closes.
    private func answerAndClose(_ error: ServiceError) {
        guard let connection, !closing else { return }
        forwarder.metrics.error(error.code)
        closing = true
        let bytes = error.http1Bytes(requestID: nil, closing: true, withBody: true, allocator: allocator)
        connection.write(bytes)
        connection.closeAfterFlush()
    }

    /// Closes the connection now, whatever is under way (a timeout, a failure, or the drain timeout ran out).
    func close() {
        closing = true
        timer?.stop()
        connection?.close()
    }

    private func resumeReads() {
        connection?.resumeReads()
    }
}

@available(*, unavailable)
extension ProxyHandler: Sendable {}
