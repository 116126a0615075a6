import CityscapeTestSupport
import NIOCore
import NIOPosix
import Synchronization

@testable import ProxyServer

/// A TCP backend below HTTP, for faults a real server will not produce on demand.
///
/// `.silent` accepts and reads but never answers (a hung backend); `.closeOnRequest` reads the
/// request and closes the connection without a response (a backend dying mid-request);
/// `.closeDelimited` answers `hello` without a length, ending the body by closing (HTTP/1.0 style);
/// `.answer(bytes)` writes `bytes` for every read, keeping the connection open (scripted, even malformed, responses).
/// `reads` counts the requests that reached it.
final class RawBackend: Sendable {
    enum Mode: Sendable { case silent, closeOnRequest, closeDelimited, answer(String) }

    let address: BackendAddress
    private let channel: any Channel
    private let box: ReadsBox

    init(_ mode: Mode) async throws {
        let box = ReadsBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RawHandler(mode: mode, box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.channel = channel
        self.address = BackendAddress(host: "127.0.0.1", port: channel.localAddress?.port ?? 0)
        self.box = box
    }

    /// Requests (reads) that reached this backend.
    var requestCount: Int { box.value.load(ordering: .relaxed) }

    func close() async {
        try? await channel.close()
    }
}

private final class ReadsBox: Sendable {
    let value = Atomic<Int>(0)
}

private final class RawHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let mode: RawBackend.Mode
    let box: ReadsBox

    init(mode: RawBackend.Mode, box: ReadsBox) {
        self.mode = mode
        self.box = box
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        // Health checks are not what the tests count.
        if !String(buffer: buffer).hasPrefix("GET /healthz") { box.value.add(1, ordering: .relaxed) }
        switch mode {
        case .silent: break
        case .closeOnRequest: context.close(promise: nil)
        case .closeDelimited:
            let answer = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nhello")
            context.writeAndFlush(NIOAny(answer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        case .answer(let text):
            context.writeAndFlush(NIOAny(ByteBuffer(string: text)), promise: nil)
        }
    }
}

/// A port on 127.0.0.1 that refuses connections (see `SilentListener.refusedPort`).
func closedPort() async throws -> BackendAddress {
    BackendAddress(host: "127.0.0.1", port: try SilentListener.refusedPort())
}
