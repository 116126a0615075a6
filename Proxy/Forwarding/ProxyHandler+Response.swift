import CityscapeKit
import CoreMetrics
import EpollKit
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// The response side: what the upstream connection reads, written back to the client; the proxy's own
/// answers; and the executor of `ExchangeStateMachine`'s actions.
extension ProxyHandler {
    func upstream(_ connection: UpstreamConnection, receivedHead head: UpstreamResponseHead) {
        guard let exchange, exchange.upstream === connection, let client = self.connection else {
            connection.abandon()
            return
        }
        let untilClose = head.framing == .chunked || head.framing == .untilClose
        switch exchange.machine.responseHead(status: Int(head.status.code), untilClose: untilClose) {
        case .forwardInterimHead:
            // 100 Continue and friends go straight through to an HTTP/1.1 client; the final head follows.
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
        case .forwardHead(let connectionHeader, let chunked):
            if let started = exchange.attemptStarted {
                exchange.responseTime = Double((NIODeadline.now() - started).nanoseconds) / 1e9
            }
            let value: StaticString? =
                switch connectionHeader {
                case .close: "close"
                case .keepAlive: "keep-alive"
                case .none: nil
                }
            responseHeadBuffer.clear()
            ForwardedResponseHeaders.write(
                head,
                version: exchange.request.version,
                requestID: exchange.requestID,
                connection: value,
                chunked: chunked,
                into: &responseHeadBuffer
            )
            responseHeadPending = true
        default:
            break
        }
    }

    func upstream(_ connection: UpstreamConnection, receivedBody buffer: ByteBuffer) {
        guard let exchange, exchange.upstream === connection, let client = self.connection else {
            connection.abandon()
            return
        }
        if responseHeadPending && !exchange.machine.responseChunked && buffer.readableBytes <= Self.maxJoinedBodyBytes {
            responseHeadBuffer.writeImmutableBuffer(buffer)
            writePendingHead()
        } else if exchange.machine.responseChunked {
            writePendingHead()
            ChunkFraming.write(buffer, allocator: allocator) { client.write($0) }
        } else {
            writePendingHead()
            client.write(buffer)
        }
        if !client.isWritable { connection.pauseReads() }
    }

    func upstreamResponseEnded(_ connection: UpstreamConnection) {
        guard let exchange, exchange.upstream === connection, self.connection != nil else {
            connection.abandon()
            return
        }
        writePendingHead()
        perform(exchange.machine.responseEnded(), for: exchange)
    }

    func upstreamReadComplete(_ connection: UpstreamConnection) {
        writePendingHead()
        self.connection?.flush()
    }

    func upstreamWritabilityChanged(_ connection: UpstreamConnection) {
        guard exchange?.upstream === connection else { return }
        if connection.isWritable { resumeReads() } else { self.connection?.pauseReads() }
    }

    func upstream(_ connection: UpstreamConnection, failed failure: BackendFailure) {
        guard let exchange, exchange.upstream === connection else { return }
        attemptFailed(exchange, failure)
    }

    private func writePendingHead() {
        guard responseHeadPending, let connection else { return }
        responseHeadPending = false
        connection.write(responseHeadBuffer)
    }

    // MARK: Exchange actions

    func perform(_ action: ExchangeStateMachine.Action, for exchange: Exchange) {
        switch action {
        case .none, .dropBody, .forwardInterimHead, .forwardHead:
            break
        case .pickBackend(let excluding):
            if forwarder.pool.outliers != nil {
                exchange.attemptStarted = .now()
                exchange.responseTime = nil
            }
            perform(exchange.machine.picked(forwarder.pool.next(excluding: excluding)), for: exchange)
        case .connect(let backend, let isRetry):
            connect(exchange, to: backend, isRetry: isRetry)
        case .releaseConnection:
            break
        case .sendHead:
            break
        case .sendBody(let sendEnd):
            if let upstream = exchange.upstream { sendPendingBody(of: exchange, to: upstream, end: sendEnd) }
        case .pauseClientReads:
            connection?.pauseReads()
        case .finishAttempt(let backend, let outcome, let then):
            exchange.upstream?.abandon()
            exchange.upstream = nil
            if let backend {
                switch outcome {
                case .none: forwarder.pool.finish(backend)
                case .failed(let failure): forwarder.pool.finish(backend, outcome: failure.healthEvent, reason: failure.summary)
                }
            }
            switch then {
            case .nothing: break
            case .retry: perform(.pickBackend(excluding: exchange.machine.tried), for: exchange)
            case .answer(let error, let closing): writeAnswer(error, closing: closing, for: exchange)
            case .answerFailure(let failure): perform(.answerFailure(failure), for: exchange)
            case .closeClient: close()
            }
        case .answerFailure(let failure):
            perform(exchange.machine.answer(forwarder.error(for: failure), closing: false), for: exchange)
        case .answer(let error, let closing):
            writeAnswer(error, closing: closing, for: exchange)
        case .endResponse(let backend, let reuse):
            let upstream = exchange.upstream
            exchange.upstream = nil
            if let backend { forwarder.pool.finish(backend, outcome: .requestSucceeded, responseTime: exchange.responseTime) }
            if reuse { upstream?.release() } else { upstream?.abandon() }
            endResponse(of: exchange)
        case .finish:
            finishExchange()
        case .closeClient:
            close()
        }
    }

    /// Answers the exchange with an error of the proxy's own (nothing was sent to the client yet).
    private func writeAnswer(_ error: ServiceError, closing: Bool, for exchange: Exchange) {
        guard let connection else { return }
        forwarder.metrics.error(error.code)
        forwarder.logger.debug(
            "\(exchange.request.method) \(exchange.request.uri) → \(error.status.code) \(error.code): \(error.message)",
            metadata: ["request_id": "\(exchange.requestID)"]
        )
        let bytes = error.http1Bytes(
            requestID: exchange.requestID.description,
            closing: closing,
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
        if exchange.machine.responseChunked { connection.write(ChunkFraming.end) }
        // Only a response that said so closes the connection: a client may send its next request on one
        // that did not, the moment it has read it.
        if exchange.machine.closeAfterResponse {
            state.closingAfterAnswer()
            connection.closeAfterFlush()
            return
        }
        connection.flush()
        if exchange.machine.requestEnded {
            finishExchange()
        } else {
            // The rest of the request body is read and dropped.
            resumeReads()
        }
    }

    func finishExchange() {
        guard exchange != nil else { return }
        exchange = nil
        tally.requestFinished()
        guard state.isOpen else { return }
        resumeReads()
        perform(state.exchangeFinished(pendingBytes: received.readableBytes > 0))
        // A pipelined request may be waiting in `received`.
        processReceived()
    }
}
