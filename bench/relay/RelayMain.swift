import Foundation
import NIOCore
import NIOPosix

/// `cityscape-bench-relay PORT BACKEND_PORT`: a TCP byte relay on 127.0.0.1, one upstream connection per
/// client connection, no HTTP at all. Not a proxy anyone should deploy: `make bench` runs it next to nginx,
/// HAProxy and cityscape-proxy to show what SwiftNIO itself costs per request on this machine, the floor
/// under any proxy built on it (cityscape-proxy adds HTTP parsing, re-framing, routing and pooling).
@main
enum RelayMain {
    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 3, let port = Int(arguments[1]), let backend = Int(arguments[2]) else {
            print("usage: cityscape-bench-relay PORT BACKEND_PORT")
            exit(64)
        }
        let server = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.maxMessagesPerRead, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { client in
                let toUpstream = RelayHandler()
                let handler = NIOLoopBound(toUpstream, eventLoop: client.eventLoop)
                return client.eventLoop.makeCompletedFuture {
                    try client.pipeline.syncOperations.addHandler(toUpstream)
                }.flatMap {
                    ClientBootstrap(group: client.eventLoop)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .channelInitializer { upstream in
                            upstream.eventLoop.makeCompletedFuture {
                                try upstream.pipeline.syncOperations.addHandler(RelayHandler(partner: client))
                            }
                        }
                        .connect(host: "127.0.0.1", port: backend)
                        .map { upstream in handler.value.connected(to: upstream) }
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .wait()
        print("listening on http://127.0.0.1:\(server.localAddress?.port ?? port)")
        try server.closeFuture.wait()
    }
}

/// Copies what one side reads to its partner, flushing once per read batch; closing one side closes both.
final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var partner: (any Channel)?
    /// Bytes read before the upstream connection was up.
    private var early: [ByteBuffer] = []

    init(partner: (any Channel)? = nil) {
        self.partner = partner
    }

    func connected(to upstream: any Channel) {
        partner = upstream
        for buffer in early { upstream.write(buffer, promise: nil) }
        early = []
        upstream.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let partner { partner.write(buffer, promise: nil) } else { early.append(buffer) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.close(promise: nil)
    }
}

@available(*, unavailable)
extension RelayHandler: Sendable {}
