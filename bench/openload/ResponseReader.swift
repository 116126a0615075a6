import NIOCore
import NIOHTTP1

/// Reads answers on one connection and hands each whole one to the generator.
final class ResponseReader: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let generator: Generator
    private let connection: Connection
    private var head: HTTPResponseHead?

    init(generator: Generator, connection: Connection) {
        self.generator = generator
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            generator.answered(
                on: connection,
                status: Int(head.status.code),
                timing: ServerTimingParts(header: head.headers.first(name: "server-timing")),
                keepAlive: head.isKeepAlive
            )
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or a malformed answer ends this connection; its close then records the request as failed.
        context.close(promise: nil)
    }
}
