import NIOCore
import NIOHTTP1

/// The last handler of an upstream connection: sends one request at a time and collects its response.
///
/// It lives on the connection's event loop and is used only there (the pool that owns it runs on the same
/// loop), so it needs no lock; ``ExchangeState`` decides, the handler carries out the actions. Requests go out
/// as bytes (``UpstreamRequest``) past the response decoder, which it tells of each one.
final class UpstreamExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = ByteBuffer

    private var state = ExchangeState.idle
    private var waiter: ExchangeWaiter?
    /// Counts the exchanges sent, so a deadline names the one it belongs to.
    private var exchange: UInt64 = 0
    private var context: ChannelHandlerContext?
    /// Told when an exchange ended and the connection can carry the next request.
    var onReusable: ((UpstreamExchangeHandler) -> Void)?
    /// The decoder of this connection's responses (see ``ResponseDecoding``).
    private let responseDecoder: HTTPResponseDecoder

    init(responseDecoder: HTTPResponseDecoder) {
        self.responseDecoder = responseDecoder
    }

    /// Whether the connection is open and carries no request.
    var isReady: Bool { state.isIdle && (context?.channel.isActive ?? false) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Sends `request` (a `GET`, encoded) and tells `waiter` the outcome; returns the exchange's number, which the
    /// pool passes back to ``deadlinePassed(exchange:)`` at its deadline, or nil when it could not be sent.
    func send(_ request: ByteBuffer, waiter: ExchangeWaiter) -> UInt64? {
        guard let context, context.channel.isActive, state.send() else {
            waiter.fail(.connectionReset("the upstream connection closed before the request was sent"))
            return nil
        }
        self.waiter = waiter
        exchange &+= 1
        ResponseDecoding.requestSent(to: responseDecoder)
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
        return exchange
    }

    /// The deadline of `exchange` passed: it fails with a timeout if it is still in progress.
    func deadlinePassed(exchange: UInt64) {
        guard exchange == self.exchange, waiter != nil, let context else { return }
        run(state.timedOut("no complete response before the deadline"), context: context)
    }

    /// Closes an idle connection (the pool no longer wants it).
    func close() {
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let action: ExchangeState.Action
        switch unwrapInboundIn(data) {
        case .head(let head):
            action = state.head(status: Int(head.status.code), keepAlive: head.isKeepAlive)
        case .body(let part):
            action = state.body(part, limit: UpstreamLimits.maximumBodyBytes)
        case .end:
            action = state.end()
        }
        run(action, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(state.failed(.connectionReset("the upstream closed the connection before the response was complete")), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        run(state.failed(.connectionReset("\(error)")), context: context)
    }

    private func run(_ action: ExchangeState.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .deliver(let response, let reusable):
            let waiter = finish()
            // Back in the pool before the caller resumes, so its next call can reuse this connection.
            if reusable { onReusable?(self) } else { context.close(promise: nil) }
            waiter?.succeed(response)
        case .fail(let error, let close):
            let waiter = finish()
            if close { context.close(promise: nil) }
            waiter?.fail(error)
        case .close:
            context.close(promise: nil)
        }
    }

    private func finish() -> ExchangeWaiter? {
        defer { waiter = nil }
        return waiter
    }
}
