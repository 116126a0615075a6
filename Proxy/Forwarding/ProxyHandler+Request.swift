import CityscapeKit
import CoreMetrics
import EpollKit
import Logging
import NIOCore
import NIOHTTP1

/// The request side: heads and bodies read from the client, attempts on backends, bytes sent upstream.
extension ProxyHandler {
    /// Reads what `received` holds: the current request's body, else the next request's head. A request
    /// read while a response is in progress waits, pipelined, until that exchange finishes.
    func processReceived() {
        guard !processing else { return }
        processing = true
        defer {
            processing = false
            // Let go of a consumed read buffer, so the loop can read into it again instead of allocating another.
            if received.readableBytes == 0 { received = loop.emptyBuffer }
        }
        while state.isOpen && connection != nil {
            if var decoder = requestBody {
                let output: BodyDecoder.Output?
                do {
                    output = try decoder.next(from: &received)
                } catch {
                    requestBody = nil
                    guard let exchange else { return close() }
                    perform(exchange.machine.bodyMalformed(error.reason), for: exchange)
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
                    perform(state.bodyEnded())
                    if let exchange { perform(exchange.machine.bodyEnded(), for: exchange) }
                }
                continue
            }
            if exchange != nil {
                if received.readableBytes > Self.maxPipelinedBytes { connection?.pauseReads() }
                return
            }
            guard received.readableBytes > 0 else { return }
            // The head is bound straight from the scanner's result and moved on: a head kept in an optional
            // first and unwrapped later is copied, a retain and a release of each of its buffers.
            let request: ClientRequestHead
            do {
                guard let wire = try heads.next(from: &received) else {
                    // Part of a head: it must be complete within the header timeout of its first byte.
                    perform(state.headIncomplete())
                    return
                }
                request = ClientRequestHead(wire)
            } catch {
                rejectHead(error)
                return
            }
            start(request)
        }
    }

    private func start(_ request: consuming ClientRequestHead) {
        tally.requestStarted()
        let requestID = ProxyRequestID(candidate: request.wire.first(.xRequestID).map { request.wire.string($0.value) }, generator: &requestIDs)
        let body: RequestGuard.BodyLength
        let refusal: ServiceError?
        do throws(ServiceError) {
            if state.overCapacity { throw .tooManyConnections(limit: policy.maxConnections) }
            body = try forwarder.guardrails.check(request)
            refusal = nil
        } catch {
            body = .none
            refusal = error
        }
        // The request's last use: it moves into the exchange instead of being copied.
        let exchange = Exchange(request: consume request, requestID: requestID, body: body, quiescing: state.quiescing)
        self.exchange = exchange
        perform(state.headReceived(hasBody: body != .none))
        if let refusal {
            perform(exchange.machine.answer(refusal, closing: true), for: exchange)
            return
        }
        if body != .none { requestBody = BodyDecoder(body.framing) }
        // A chunked body is read first, up to the buffered size, so a short one is checked and replayable.
        perform(exchange.machine.begin(), for: exchange)
    }

    private func receiveBody(_ buffer: ByteBuffer) {
        guard let exchange else { return }
        exchange.bodyBytes += buffer.readableBytes
        let action = exchange.machine.bodyReceived(
            totalBytes: exchange.bodyBytes,
            unsentBytes: exchange.unsentBytes + buffer.readableBytes,
            limit: forwarder.guardrails.limits.maxBodyBytes
        )
        switch action {
        case .dropBody, .finishAttempt: break
        default: exchange.bodyParts.append(buffer)
        }
        perform(action, for: exchange)
    }

    // MARK: Attempts

    /// Gets a connection to `backend`: a parked one at once, else the first that opens or comes free.
    func connect(_ exchange: Exchange, to backend: BackendAddress, isRetry: Bool) {
        if isRetry { forwarder.metrics.retries.increment() }
        if let connection = upstreams.take(backend) {
            attach(connection, to: exchange)
            return
        }
        upstreams.wait(for: backend) { [self] result in
            // Still the attempt this wait is for: the exchange is current and has no connection yet.
            let current = self.exchange === exchange && exchange.machine.backend == backend && exchange.upstream == nil
            switch result {
            case .success(let connection):
                // Not current: the client left (or was answered) meanwhile; the pool keeps the connection.
                guard current else { return connection.release() }
                attach(connection, to: exchange)
            case .failure(let failure):
                if current { attemptFailed(exchange, failure) }
            }
        }
    }

    private func attach(_ connection: UpstreamConnection, to exchange: Exchange) {
        let action = exchange.machine.connected()
        guard case .sendHead(let sendEnd) = action, let backend = exchange.machine.backend else {
            connection.release()
            return
        }
        exchange.upstream = connection
        connection.delegate = self
        requestHeadBuffer.clear()
        requestHeaders.write(exchange.request, body: exchange.body, requestID: exchange.requestID, backend: backend, into: &requestHeadBuffer)
        connection.writeHead(requestHeadBuffer, isHEAD: exchange.request.method == .HEAD)
        exchange.sentParts = 0
        sendPendingBody(of: exchange, to: connection, end: sendEnd)
        if connection.isWritable { resumeReads() }
    }

    /// Writes the body parts not sent yet, and the end if the client's body has ended.
    func sendPendingBody(of exchange: Exchange, to upstream: UpstreamConnection, end: Bool) {
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
        if end {
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

    /// An attempt failed: the machine charges the backend, then retries, answers or cuts the client off.
    func attemptFailed(_ exchange: Exchange, _ failure: BackendFailure) {
        let retry = forwarder.retryPolicy.shouldRetry(
            failure,
            method: exchange.request.method,
            hasBody: !exchange.replayable,
            retriesSoFar: exchange.machine.tried.count - 1
        )
        let midResponse = exchange.machine.responseStarted
        forwarder.logger.info(
            midResponse ? "backend failed mid-response; closing the client connection" : "upstream attempt failed",
            metadata: [
                "backend": "\(exchange.machine.backend.map(\.description) ?? "-")", "failure": .string(failure.summary),
                "attempt": "\(exchange.machine.tried.count)", "request_id": "\(exchange.requestID)",
            ]
        )
        perform(exchange.machine.attemptFailed(failure, retry: retry), for: exchange)
    }

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
}
