import NIOCore
import NIOHTTP1

/// What one upstream connection reports to the client connection it currently serves.
///
/// Both sides of an exchange live on the same event loop, so these are plain calls, never hops.
protocol UpstreamConnectionDelegate: AnyObject {
    func upstream(_ connection: UpstreamConnection, received part: HTTPClientResponsePart)
    func upstreamReadComplete(_ connection: UpstreamConnection)
    func upstreamWritabilityChanged(_ connection: UpstreamConnection)
    /// The exchange failed before its response ended (reset, close, timeout, bad response).
    func upstream(_ connection: UpstreamConnection, failed failure: UpstreamFailure)
}

/// One keep-alive HTTP/1.1 connection to a backend: the last handler of its pipeline, after NIO's
/// request encoder and response decoder.
///
/// Serves one exchange at a time for its `delegate`; between exchanges it is parked in the event loop's
/// `UpstreamConnectionPool`, which it leaves when the backend closes it.
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    let backend: BackendAddress
    private let timeout: TimeAmount
    private(set) var context: ChannelHandlerContext?
    weak var pool: UpstreamConnectionPool?
    /// The client side of the current exchange; nil while parked.
    var delegate: (any UpstreamConnectionDelegate)?
    /// When the connection was last parked, for the pool's idle sweep.
    var parkedAt = NIODeadline.uptimeNanoseconds(0)
    /// Whether the backend let this connection be used again after its last response.
    private(set) var reusable = true
    private var responseInProgress = false

    /// Held shut while the client cannot take more of the response.
    private var reads = ReadGate()

    // The backend timeout: a deadline pushed forward on every read, checked by one lazily re-armed timer,
    // so a request costs a clock read instead of scheduling and cancelling a timer.
    private var deadline: NIODeadline?
    private var timer: Scheduled<Void>?

    init(backend: BackendAddress, timeout: TimeAmount) {
        self.backend = backend
        self.timeout = timeout
    }

    var isActive: Bool { context?.channel.isActive ?? false }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    // MARK: Used by the client side

    func write(_ part: HTTPClientRequestPart) {
        guard let context else { return }
        if case .head = part {
            reusable = true
            responseInProgress = true
        }
        context.write(wrapOutboundOut(part), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    /// Starts waiting for the response: the head must come within the timeout, then each read.
    func startResponseTimer() {
        guard let context else { return }
        let deadline = NIODeadline.now() + timeout
        self.deadline = deadline
        if timer == nil { armTimer(context: context, at: deadline) }
    }

    func pauseReads() {
        reads.close()
    }

    func resumeReads() {
        reads.open(context)
    }

    /// Ends the exchange without reuse: the connection is in an unknown state.
    func abandon() {
        delegate = nil
        deadline = nil
        context?.close(promise: nil)
    }

    /// Ends the exchange after its response; the connection goes back to the pool if it can be reused.
    func release() {
        delegate = nil
        deadline = nil
        reads.open(context)
        if reusable && !responseInProgress && isActive, let pool {
            pool.park(self)
        } else {
            context?.close(promise: nil)
        }
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard let delegate else {
            // A parked connection has nothing to say; whatever the backend sent, it is no longer usable.
            context.close(promise: nil)
            return
        }
        switch part {
        case .head(let head):
            if head.status.code >= 200 || head.status.code == 101 {
                reusable = head.isKeepAlive
            }
            if deadline != nil { deadline = .now() + timeout }
        case .body:
            if deadline != nil { deadline = .now() + timeout }
        case .end:
            responseInProgress = false
            deadline = nil
        }
        delegate.upstream(self, received: part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete(self)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(self)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        reusable = false
        pool?.remove(self)
        fail(.closedBeforeResponse("connection closed by backend"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reusable = false
        fail(UpstreamFailure(error))
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        reads.read(context)
    }

    private func fail(_ failure: UpstreamFailure) {
        guard let delegate else { return }
        self.delegate = nil
        deadline = nil
        delegate.upstream(self, failed: failure)
    }

    private func armTimer(context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            guard let current = self.deadline, let context = self.context else { return }
            if current > .now() {
                armTimer(context: context, at: current)
            } else {
                reusable = false
                fail(.timeout)
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension UpstreamConnection: Sendable {}
