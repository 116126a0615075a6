import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import UpstreamKit

/// A base URL parsed once: a call under it must reach exactly what the joined URL reaches.
@Suite("Upstream endpoints")
struct UpstreamEndpointTests {
    static let paths = ["/api/location/97227/US", "/json?lat=45.549600&lng=-122.674300&date=2026-06-21&formatted=0", "?x=1", ""]

    @Test(
        "a plain base plus a path is the target of the joined URL",
        arguments: ["http://127.0.0.1:8001", "http://127.0.0.1:8001/", "http://h/prefix", "http://h/prefix/", "http://[::1]:9", "http://h?q"],
        paths
    )
    func plainBase(base: String, path: String) throws {
        let endpoint = UpstreamEndpoint(base)
        let plain = try #require(endpoint.plainBase)
        let joined = try #require(UpstreamTarget(endpoint.url(path)))
        #expect(plain.origin == joined.origin)
        #expect(plain.hostHeader == joined.hostHeader)
        #expect(try #require(endpoint.requestPrefix(for: path)) + path == joined.path)
    }

    @Test(
        "any other base keeps only its text, joined on each call",
        arguments: ["https://h", "https://h:8443/p", "http://h/#f", "http://u@h", "ftp://h"]
    )
    func otherBase(base: String) {
        let endpoint = UpstreamEndpoint(base)
        #expect(endpoint.plainBase == nil && endpoint.requestPrefix(for: "/json") == nil)
        #expect(endpoint.url("/json?a=1") == base + "/json?a=1")
    }

    @Test("a transport without its own endpoint call is sent the joined URL")
    func joinedByDefault() async throws {
        let client = RecordingUpstream()
        let response = try await client.get(UpstreamEndpoint("https://sun.example"), path: "/json?lat=1", headers: [], timeout: .seconds(1))
        #expect(response.status == 204)
        #expect(client.urls.withLock { $0 } == ["https://sun.example/json?lat=1"])
    }

    @Test("the event-loop client sends the base's path prefix and the call's path on one request line")
    func prefixOnTheWire() async throws {
        let router = Router()
        router.get("/prefix/api/echo") { request, _ in request.uri.query ?? "" }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { server in
            let endpoint = UpstreamEndpoint("http://127.0.0.1:\(try #require(server.port))/prefix")
            #expect(endpoint.plainBase != nil)
            try await EventLoopUpstreamTests.withClient { client in
                let response = try await client.get(endpoint, path: "/api/echo?lat=1&lng=2", headers: [], timeout: .seconds(5))
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == "lat=1&lng=2")
                let missing = try await client.get(endpoint, path: "/api/other", headers: [], timeout: .seconds(5))
                #expect(missing.status == 404)
            }
        }
    }

    @Test("a path appended to the base is checked as the base's is")
    func appendedPathIsChecked() throws {
        let allocator = ByteBufferAllocator()
        let request = try UpstreamRequest.encode(path: "/p", appending: "/q?r=1", host: "h", headers: [], allocator: allocator)
        #expect(String(buffer: request) == "GET /p/q?r=1 HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(throws: UpstreamError.self) {
            try UpstreamRequest.encode(path: "/p", appending: "/q r", host: "h", headers: [], allocator: allocator)
        }
    }
}

/// Answers 204 to every URL and remembers them, to show what the seam's default sends.
final class RecordingUpstream: UpstreamClient {
    let urls = Mutex<[String]>([])

    func get(_ url: String, headers: [(name: String, value: String)], timeout: Duration) async throws(UpstreamError) -> UpstreamResponse {
        urls.withLock { $0.append(url) }
        return UpstreamResponse(status: 204, body: [])
    }
}
