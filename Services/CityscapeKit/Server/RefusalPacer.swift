import NIOCore
import NIOHTTP1

/// Holds a request that a client sends before the `Retry-After` of its last refusal has passed; see
/// `RefusalPacing` for why. Sits between the HTTP/1 codec and the application, where it sees request parts
/// coming in, response heads going out and the pipeline's reads.
final class RefusalPacer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var pacing: RefusalPacing
    private var release: Scheduled<Void>?

    init(longestHold: TimeAmount) {
        pacing = RefusalPacing(longestHold: longestHold)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch pacing.requestPart(unwrapInboundIn(data), now: context.eventLoop.now) {
        case .forward:
            context.fireChannelRead(data)
        case .hold(let releaseAt):
            guard let releaseAt else { return }
            release = context.eventLoop.assumeIsolated().scheduleTask(deadline: releaseAt) { [self] in
                release = nil
                timerFired(context: context)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // While a request is held, the application has nothing new to read.
        guard case .holding = pacing.state else { return context.fireChannelReadComplete() }
    }

    func read(context: ChannelHandlerContext) {
        if pacing.readRequested() { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head(let head) = unwrapOutboundIn(data) { pacing.responseHead(head, now: context.eventLoop.now) }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release?.cancel()
        release = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Held parts of a client that left are dropped with the connection.
        release?.cancel()
        release = nil
        context.fireChannelInactive()
    }

    private func timerFired(context: ChannelHandlerContext) {
        guard case .release(let parts, let read) = pacing.timerFired() else { return }
        for part in parts { context.fireChannelRead(wrapInboundOut(part)) }
        context.fireChannelReadComplete()
        if read { context.read() }
    }
}

@available(*, unavailable)
extension RefusalPacer: Sendable {}
