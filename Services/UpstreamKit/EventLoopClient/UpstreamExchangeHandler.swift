import NIOCore

/// The last handler of an upstream connection: sends one request at a time and collects its response.
///
/// It lives on the connection's event loop and is used only there (the pool that owns it runs on the same
/// loop), so it needs no lock; ``ExchangeState`` decides, the handler carries out the actions. Requests go out
/// as bytes (``UpstreamRequest``); responses are read from the socket's bytes by ``ResponseParser``, with no
/// handler in between.
final class UpstreamExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var state = ExchangeState.idle
    private var waiter: ExchangeWaiter?
    /// Counts the exchanges sent, so a deadline names the one it belongs to.
    private var exchange: UInt64 = 0
    private var context: ChannelHandlerContext?
    /// Told when an exchange ended and the connection can carry the next request.
    var onReusable: ((UpstreamExchangeHandler) -> Void)?
    private var parser = ResponseParser()

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
        parser.feed(unwrapInboundIn(data))
        do {
            // One read may hold a whole response (head, body, end); stop once the connection is closed.
            while !state.isClosed, let event = try parser.next() {
                run(action(for: event), context: context)
            }
        } catch {
            run(state.failed(error), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A body read until close ends here; anything else in progress fails.
        do {
            if !state.isClosed, let event = try parser.endOfInput() { run(action(for: event), context: context) }
        } catch {
            run(state.failed(error), context: context)
        }
        run(state.failed(.connectionReset("the upstream closed the connection before the response was complete")), context: context)
        context.fireChannelInactive()
    }

    private func action(for event: ResponseParser.Event) -> ExchangeState.Action {
        switch event {
        case .head(let status, let keepAlive): state.head(status: status, keepAlive: keepAlive)
        case .body(let part): state.body(part, limit: UpstreamLimits.maximumBodyBytes)
        case .end: state.end()
        }
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
