import CityscapeTestSupport
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import UpstreamKit

/// The event-loop client against a TCP server on 127.0.0.1 that answers every request with scripted bytes: the
/// framings and faults a Hummingbird upstream does not produce on demand.
@Suite("Event-loop upstream client, scripted answers")
struct ScriptedUpstreamTests {
    @Test(
        "every framing gives the whole body, and the connection is reused only when the answer allows it",
        arguments: [
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6;x=y\r\nhello \r\n5\r\nworld\r\n0\r\nX-T: 1\r\n\r\n", "hello world", true),
            ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal", "final", true),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", "ok", true),
            ("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", false),
            ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye", "bye", false),
            ("HTTP/1.1 200 OK\r\n\r\nuntil the end", "until the end", false),
        ]
    )
    func framing(answer: String, body: String, reused: Bool) async throws {
        let closes = !reused
        let upstream = try await ScriptedServer(answer: answer, closeAfterAnswer: closes)
        // A call from outside the event loops takes the next loop's pool: one connection per loop at most when kept.
        let calls = System.coreCount + 1
        try await EventLoopUpstreamTests.withClient { client in
            for _ in 0..<calls {
                let response = try await client.get("http://127.0.0.1:\(upstream.port)/x", headers: [], timeout: .seconds(5))
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == body)
            }
        }
        if reused {
            #expect(upstream.connections <= System.coreCount)
        } else {
            #expect(upstream.connections == calls)
        }
        await upstream.close()
    }

    @Test(
        "an answer that cannot be framed, or ends early, fails as connection_reset and its connection is not reused",
        arguments: [
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx", false),
            ("HTTP/1.1 200 OK\r\nContent-Length: 2\nX: y\r\n\r\nok", false),
            ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", true),
        ]
    )
    func malformed(answer: String, closeAfterAnswer: Bool) async throws {
        let upstream = try await ScriptedServer(answer: answer, closeAfterAnswer: closeAfterAnswer)
        try await EventLoopUpstreamTests.withClient { client in
            for _ in 0..<2 {
                await #expect(throws: UpstreamError.connectionReset("")) {
                    _ = try await client.get("http://127.0.0.1:\(upstream.port)/x", headers: [], timeout: .seconds(5))
                }
            }
        }
        #expect(upstream.connections == 2)
        await upstream.close()
    }
}

/// Answers every read with `answer`, closing the connection after it when `closeAfterAnswer`; counts connections.
final class ScriptedServer: Sendable {
    let port: Int
    private let channel: any Channel
    private let accepted: Counter

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    init(answer: String, closeAfterAnswer: Bool) async throws {
        let accepted = Counter()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                accepted.value.add(1, ordering: .relaxed)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Answerer(answer: answer, closeAfterAnswer: closeAfterAnswer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        self.accepted = accepted
    }

    /// Connections accepted so far.
    var connections: Int { accepted.value.load(ordering: .relaxed) }

    func close() async {
        try? await channel.close()
    }

    private final class Answerer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let answer: String
        let closeAfterAnswer: Bool

        init(answer: String, closeAfterAnswer: Bool) {
            self.answer = answer
            self.closeAfterAnswer = closeAfterAnswer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // Only a request's last read is answered: the client writes each request in one buffer.
            guard String(buffer: unwrapInboundIn(data)).hasSuffix("\r\n\r\n") else { return }
            let written = context.writeAndFlush(NIOAny(ByteBuffer(string: answer)))
            if closeAfterAnswer { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
        }
    }
}
