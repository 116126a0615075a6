import CityscapeTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

@testable import UpstreamKit

/// The async transport's own HTTP/1.1 client against a real Hummingbird server on 127.0.0.1.
@Suite("Event-loop upstream client")
struct EventLoopUpstreamTests {
    /// Runs `body` with a fresh client and shuts it down afterwards, whatever `body` does.
    static func withClient(idleLimit: TimeAmount = .seconds(30), _ body: (EventLoopUpstream) async throws -> Void) async throws {
        let client = EventLoopUpstream(configuration: .init(connectTimeout: .seconds(5), connectionsPerHost: 8), idleLimit: idleLimit)
        do {
            try await body(client)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    @Test("status, body and request headers pass through; connections are kept alive and reused")
    func keepAlive() async throws {
        try await Self.upstream().test(.live) { server in
            let base = "http://127.0.0.1:\(try #require(server.port))"
            try await Self.withClient { client in try await Self.keepAlive(base: base, client: client) }
        }
    }

    static func keepAlive(base: String, client: EventLoopUpstream) async throws {
        let calls = 2 * System.coreCount + 1
        var peers: Set<String> = []
        for index in 0..<calls {
            let response = try await client.get("\(base)/peer", headers: [(name: "X-Request-ID", value: "r\(index)")], timeout: .seconds(5))
            #expect(response.status == 200)
            let text = String(decoding: response.body, as: UTF8.self)
            let parts = text.split(separator: " ")
            #expect(parts.last == "r\(index)", "\(text)")
            peers.insert(String(parts.first ?? ""))
        }
        // One pool per event loop: at most one connection per loop, however many sequential calls.
        #expect(peers.count <= System.coreCount, "\(peers.count) connections for \(calls) sequential calls")
        let missing = try await client.get("\(base)/missing", headers: [], timeout: .seconds(5))
        #expect(missing.status == 404)
    }

    @Test("a connection idle for longer than the idle limit is not reused")
    func idleLimit() async throws {
        try await Self.upstream().test(.live) { server in
            let base = "http://127.0.0.1:\(try #require(server.port))"
            try await Self.withClient(idleLimit: .milliseconds(200)) { client in
                let before = try await Self.peers(base: base, client: client)
                try await Task.sleep(for: .milliseconds(700))
                let after = try await Self.peers(base: base, client: client)
                #expect(before.isDisjoint(with: after), "\(before) reused after the idle limit: \(after)")
            }
        }
    }

    /// The client ports of a burst of sequential calls: which connections carried them.
    static func peers(base: String, client: EventLoopUpstream) async throws -> Set<String> {
        var peers: Set<String> = []
        for _ in 0..<(2 * System.coreCount) {
            let response = try await client.get("\(base)/peer", headers: [], timeout: .seconds(5))
            peers.insert(String(String(decoding: response.body, as: UTF8.self).split(separator: " ").first ?? ""))
        }
        return peers
    }

    @Test("an upstream that closes after its answer gets a new connection for the next call")
    func connectionClose() async throws {
        try await Self.upstream().test(.live) { server in
            let base = "http://127.0.0.1:\(try #require(server.port))"
            try await Self.withClient { client in
                for _ in 0..<3 {
                    let response = try await client.get("\(base)/close", headers: [], timeout: .seconds(5))
                    #expect(response.status == 200)
                    #expect(String(decoding: response.body, as: UTF8.self) == "bye")
                }
            }
        }
    }

    @Test("a response without a body (204) ends its exchange, and the connection carries the next call")
    func noContent() async throws {
        try await Self.upstream().test(.live) { server in
            let base = "http://127.0.0.1:\(try #require(server.port))"
            try await Self.withClient { client in
                for index in 0..<3 {
                    let empty = try await client.get("\(base)/empty", headers: [], timeout: .seconds(5))
                    #expect(empty.status == 204)
                    #expect(empty.body.isEmpty)
                    let echoed = try await client.get("\(base)/peer", headers: [(name: "X-Request-ID", value: "n\(index)")], timeout: .seconds(5))
                    #expect(String(decoding: echoed.body, as: UTF8.self).hasSuffix(" n\(index)"))
                }
            }
        }
    }

    @Test("a header value that would end its line early is refused before anything is sent")
    func headerInjection() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        try await Self.withClient { client in
            await #expect(throws: UpstreamError.invalidRequest("")) {
                _ = try await client.get(
                    "http://127.0.0.1:\(listener.port)/",
                    headers: [(name: "X-Request-ID", value: "a\r\nX-Admin: 1")],
                    timeout: .seconds(30)
                )
            }
        }
    }

    @Test("a body over the limit is refused as too large")
    func bodyTooLarge() async throws {
        try await Self.upstream().test(.live) { server in
            let base = "http://127.0.0.1:\(try #require(server.port))"
            try await Self.withClient { client in
                await #expect(throws: UpstreamError.bodyTooLarge("")) {
                    _ = try await client.get("\(base)/big", headers: [], timeout: .seconds(5))
                }
            }
        }
    }

    @Test("a refused connection fails as connection_failed without waiting for the deadline")
    func refused() async throws {
        let listener = try SilentListener()
        let port = listener.port
        listener.close()
        try await Self.withClient { client in
            let started = ContinuousClock.now
            await #expect(throws: UpstreamError.connectionFailed("")) {
                _ = try await client.get("http://127.0.0.1:\(port)/", headers: [], timeout: .seconds(30))
            }
            // Well before the deadline: a refusal is not waited out (the margin absorbs a loaded test machine).
            #expect(ContinuousClock.now - started < .seconds(15))
        }
    }

    @Test("an upstream that accepts and never answers is a timeout at the deadline")
    func silent() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        try await Self.withClient { client in
            let started = ContinuousClock.now
            await #expect(throws: UpstreamError.timeout("")) {
                _ = try await client.get("http://127.0.0.1:\(listener.port)/", headers: [], timeout: .milliseconds(300))
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(300))
            // Not a hang: the deadline ends the call (the margin absorbs a loaded test machine).
            #expect(elapsed < .seconds(15))
        }
    }

    @Test(
        "only plain http URLs with a host and a valid port are handled here",
        arguments: [
            ("http://127.0.0.1:8001/api/x?y=1", "127.0.0.1", 8001, "/api/x?y=1"),
            ("http://localhost/json?lat=1", "localhost", 80, "/json?lat=1"),
            ("http://[::1]:9/", "::1", 9, "/"),
            ("http://h?q", "h", 80, "/?q"),
        ]
    )
    func target(url: String, host: String, port: Int, path: String) throws {
        let target = try #require(UpstreamTarget(url))
        #expect(target.origin == .init(host: host, port: port))
        #expect(target.path == path)
    }

    @Test("anything else goes to AsyncHTTPClient", arguments: ["https://h/", "http://", "http://u@h/", "http://h:0/", "http://h:99999/", "ftp://h/"])
    func notATarget(url: String) {
        #expect(UpstreamTarget(url) == nil)
    }

    /// Routes that show the peer's port (which connection carried the call), close, or answer too much.
    static func upstream() -> some ApplicationProtocol {
        let router = Router(context: PeerContext.self)
        router.get("/peer") { request, context in
            "\(context.peerPort) \(request.headers[.init("X-Request-ID")!] ?? "")"
        }
        router.get("/close") { _, _ in
            Response(status: .ok, headers: [.connection: "close"], body: .init(byteBuffer: ByteBuffer(string: "bye")))
        }
        router.get("/empty") { _, _ in
            HTTPResponse.Status.noContent
        }
        router.get("/big") { _, _ in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(repeating: 0x61, count: UpstreamLimits.maximumBodyBytes + 1)))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }
}

/// Hummingbird's core context plus the client's port, to tell connections apart.
struct PeerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let peerPort: Int

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerPort = source.channel.remoteAddress?.port ?? 0
    }
}
