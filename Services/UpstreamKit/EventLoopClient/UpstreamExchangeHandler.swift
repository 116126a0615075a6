import NIOCore
import NIOHTTP1

/// The last handler of an upstream connection: sends one request at a time and collects its response.
///
/// It lives on the connection's event loop and is used only there (the pool that owns it runs on the same
/// loop), so it needs no lock; ``ExchangeState`` decides, the handler carries out the actions.
final class UpstreamExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var state = ExchangeState.idle
    private var promise: EventLoopPromise<UpstreamResponse>?
    /// Counts the exchanges sent, so a deadline names the one it belongs to.
    private var exchange: UInt64 = 0
    private var context: ChannelHandlerContext?
    /// Told when an exchange ended and the connection can carry the next request.
    var onReusable: ((UpstreamExchangeHandler) -> Void)?

    /// Whether the connection is open and carries no request.
    var isReady: Bool { state.isIdle && (context?.channel.isActive ?? false) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Sends `GET path` and completes `promise` with the response; returns the exchange's number, which the
    /// pool passes back to ``deadlinePassed(exchange:)`` at its deadline, or nil when it could not be sent.
    func send(_ head: HTTPRequestHead, promise: EventLoopPromise<UpstreamResponse>) -> UInt64? {
        guard let context, context.channel.isActive, state.send() else {
            promise.fail(UpstreamError.connectionReset("the upstream connection closed before the request was sent"))
            return nil
        }
        self.promise = promise
        exchange &+= 1
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        return exchange
    }

    /// The deadline of `exchange` passed: it fails with a timeout if it is still in progress.
    func deadlinePassed(exchange: UInt64) {
        guard exchange == self.exchange, promise != nil, let context else { return }
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
            let promise = finish()
            // Back in the pool before the caller resumes, so its next call can reuse this connection.
            if reusable { onReusable?(self) } else { context.close(promise: nil) }
            promise?.succeed(response)
        case .fail(let error, let close):
            let promise = finish()
            if close { context.close(promise: nil) }
            promise?.fail(error)
        case .close:
            context.close(promise: nil)
        }
    }

    private func finish() -> EventLoopPromise<UpstreamResponse>? {
        defer { promise = nil }
        return promise
    }
}
