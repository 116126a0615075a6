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
    private var deadline: Scheduled<Void>?
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

    /// Sends `GET path` and completes `promise` with the response, or with an ``UpstreamError`` at `deadline`.
    func send(_ head: HTTPRequestHead, deadline: NIODeadline, promise: EventLoopPromise<UpstreamResponse>) {
        guard let context, context.channel.isActive, state.send() else {
            promise.fail(UpstreamError.connectionReset("the upstream connection closed before the request was sent"))
            return
        }
        self.promise = promise
        // Captured strongly: `finish()` drops the timer, so the cycle lasts one exchange, and a weak reference
        // would put every retain of this handler on the runtime's slow path.
        self.deadline = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            guard let context = self.context else { return }
            self.run(self.state.timedOut("no complete response before the deadline"), context: context)
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
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
        deadline?.cancel()
        deadline = nil
        defer { promise = nil }
        return promise
    }
}
