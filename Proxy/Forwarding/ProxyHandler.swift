import CityscapeKit
import CoreMetrics
import EpollKit
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

/// One client connection of the proxy listener: the executor of two socket-free state machines.
/// `ClientConnectionStateMachine` decides the connection's deadlines, quiescing and closing;
/// `ExchangeStateMachine` (one per request, in `Exchange`) decides attempts, retries and the response's
/// framing. This class reads requests from the client's bytes (`HeadScanner`, `BodyDecoder`), performs what
/// the machines return on the sockets (client, pooled upstream connection of the same loop), and streams
/// both bodies with backpressure both ways.
///
/// Everything here runs on the connection's event loop, upstream events included: no locks, tasks or hops.
/// Errors are answered as `ServiceError` JSON.
final class ProxyHandler: TCPConnectionDelegate, UpstreamConnectionDelegate {
    /// Pipelined bytes held while a response is in progress before the client is no longer read from.
    static let maxPipelinedBytes = 64 * 1024
    /// A response body read with its head, up to this size, joins it in one buffer and one `send`.
    static let maxJoinedBodyBytes = 16 * 1024

    let forwarder: Forwarder
    let upstreams: UpstreamConnectionPool
    let tally: RequestTally
    let policy: ConnectionPolicy
    /// Nil once the connection has closed.
    var connection: TCPConnection?
    let loop: EpollLoop
    let allocator: ByteBufferAllocator
    private let onClose: () -> Void
    var state: ClientConnectionStateMachine
    var timer: DeadlineTimer<ClientConnectionStateMachine.Deadline>?
    /// Reused for every head written, when the previous one has been sent (it usually has).
    var requestHeadBuffer = ByteBuffer()
    var responseHeadBuffer = ByteBuffer()
    /// The response head is in `responseHeadBuffer`, not written yet: a small body read with it joins it.
    var responseHeadPending = false
    var requestHeaders = ForwardedRequestHeaders()
    var requestIDs = RequestIDGenerator()

    /// Client bytes not parsed yet: the rest of the current request, then pipelined ones.
    var received = ByteBuffer()
    var heads: HeadScanner
    /// The current request's body, while it is being read.
    var requestBody: BodyDecoder?
    var exchange: Exchange?
    /// `processReceived` is on the stack: whatever it would be asked to do again, its loop does next.
    var processing = false
    /// Within a batch of client reads, upstream writes are flushed once, at its read-complete.
    var readingFromClient = false
    var upstreamNeedsFlush = false

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
        self.onClose = onClose
        state = ClientConnectionStateMachine(overCapacity: overCapacity)
        loop = connection.loop
        allocator = connection.loop.allocator
        heads = HeadScanner(kind: .request, limit: forwarder.guardrails.limits.maxHeaderBytes, copiesHeads: true)
        connection.delegate = self
        requestHeadBuffer = allocator.buffer(capacity: 1024)
        responseHeadBuffer = allocator.buffer(capacity: 1024)
        requestHeaders.clientAddress = connection.remoteIP
        timer = DeadlineTimer(eventLoop: connection.loop) { [self] deadline in
            perform(state.deadlinePassed(deadline))
        }
        perform(state.accepted())
    }

    // MARK: Client events

    func connectionRead(_ buffer: ByteBuffer) {
        guard state.isOpen else { return }
        if received.readableBytes == 0 {
            received = buffer
        } else {
            received.writeImmutableBuffer(buffer)
        }
        perform(state.bytesRead())
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
    func connectionClosed(_ error: SocketError?) {
        timer?.stop()
        connection = nil
        state.closed()
        // The client is gone: whatever its exchange still holds upstream is abandoned (nginx's 499).
        if let exchange {
            perform(exchange.machine.clientClosed(), for: exchange)
            finishExchange()
        }
        onClose()
    }

    /// The listener is shutting down.
    func quiesce() {
        perform(state.quiesce(pendingBytes: requestBody != nil || received.readableBytes > 0))
    }

    /// Closes the connection now, whatever is under way (a timeout, a failure, or the drain timeout ran out).
    func close() {
        perform(state.closeRequested())
    }

    // MARK: Connection actions

    func perform(_ action: ClientConnectionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .setDeadline(let deadline):
            let delay: Duration? =
                switch deadline {
                case .idle: policy.idleTimeout
                case .grace: policy.idleCloseGrace
                case .overCapacity, .header: policy.headerTimeout
                case .body: policy.bodyTimeout
                }
            if let delay { timer?.set(at: loop.turnTime + delay.timeAmount, deadline) }
        case .clearDeadline:
            timer?.clear()
        case .closeAfterResponse:
            exchange?.machine.quiesce()
        case .answerHeaderTimeoutAndClose:
            answerAndClose(.requestHeadTimeout(policy.headerTimeout))
        case .closeOnBodyTimeout:
            forwarder.metrics.error("request_timeout")
            timer?.stop()
            connection?.close()
        case .close:
            timer?.stop()
            connection?.close()
        }
    }

    /// Answers outside any exchange (no request was read, or its head was malformed), then closes.
    func answerAndClose(_ error: ServiceError) {
        guard let connection else { return }
        forwarder.metrics.error(error.code)
        state.closingAfterAnswer()
        let bytes = error.http1Bytes(requestID: nil, closing: true, withBody: true, allocator: allocator)
        connection.write(bytes)
        connection.closeAfterFlush()
    }

    func resumeReads() {
        connection?.resumeReads()
    }
}

@available(*, unavailable)
extension ProxyHandler: Sendable {}
