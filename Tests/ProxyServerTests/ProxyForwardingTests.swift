import CityscapeTestSupport
import Foundation
import NIOHTTP1
import Synchronization
import Testing

@testable import ProxyServer

/// The proxy in process over real sockets to in-process backends: routing, headers, bodies, keep-alive.
@Suite("Proxy forwarding over live sockets")
struct ProxyForwardingTests {
    @Test("round-robin visits 3 backends in order")
    func roundRobin() async throws {
        try await withBackends(3) { backends in
            try await withProxy(backends: backends.map(\.address)) { proxy in
                var names: [String] = []
                for _ in 0..<6 { names.append(try await get("\(proxy.url)/whoami").text) }
                #expect(names == ["b0", "b1", "b2", "b0", "b1", "b2"])
            }
        }
    }

    @Test("a backend given by name is resolved and tried address by address; a name that does not resolve is a 502")
    func backendByName() async throws {
        try await withBackends(1) { backends in
            let named = BackendAddress(host: "localhost", port: backends[0].address.port)
            try await withProxy(backends: [named]) { proxy in
                let response = try await get("\(proxy.url)/whoami")
                #expect(response.status == 200)
                #expect(response.text == "b0")
            }
        }
        let unknown = BackendAddress(host: "no-such-backend.invalid", port: 80)
        // Health checks of the unresolvable name would eject it (a 503) if two ran before the request does.
        try await withProxy(
            backends: [unknown],
            configure: {
                $0.retries = 0
                $0.health.interval = .seconds(60)
            }
        ) { proxy in
            let response = try await get("\(proxy.url)/whoami")
            #expect(response.status == 502)
            #expect(response.text.contains("cannot resolve no-such-backend.invalid"))
        }
    }

    @Test("headers: hop-by-hop and Connection-named stripped both ways, X-Forwarded-*, Host kept, request id passed")
    func headerRewriting() async throws {
        try await withBackends(1) { backends in
            try await withProxy(backends: backends.map(\.address)) { proxy in
                let response = try await get(
                    "\(proxy.url)/headers",
                    headers: [
                        ("Host", "shop.example"), ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "timeout=5"),
                        ("TE", "trailers"), ("Proxy-Connection", "keep-alive"), ("Proxy-Authorization", "Basic eA=="),
                        ("X-Forwarded-For", "203.0.113.7"), ("X-Real-IP", "6.6.6.6"), ("X-Request-ID", "abc-123"), ("X-Custom", "kept"),
                    ]
                )
                #expect(response.status == 200)
                let seen = backends[0].backend.lastHeaders.withLock { $0 }
                let names = Set(seen.map { $0.0.lowercased() })
                func value(_ name: String) -> String? { seen.first { $0.0.lowercased() == name }?.1 }
                #expect(value("host") == "shop.example")
                #expect(value("x-forwarded-for") == "203.0.113.7, 127.0.0.1")
                #expect(value("x-forwarded-proto") == "http")
                #expect(value("x-forwarded-host") == "shop.example")
                #expect(value("x-real-ip") == "127.0.0.1")
                #expect(value("x-request-id") == "abc-123")
                #expect(value("x-custom") == "kept")
                for stripped in ["x-hop", "keep-alive", "te", "proxy-connection", "proxy-authorization"] {
                    #expect(!names.contains(stripped), "\(stripped) reached the backend")
                }
                #expect(seen.filter { $0.0.lowercased() == "x-forwarded-for" }.count == 1)
                // Response side: the backend's Connection and the header it names are gone; end-to-end headers stay.
                #expect(response.headers["X-Resp-Hop"].isEmpty)
                #expect(response.headers["X-End"].first == "kept")
                #expect(response.headers["X-Request-ID"].first == "abc-123")
            }
        }
    }

    @Test(
        "a missing or unsafe X-Request-ID is replaced by a generated one",
        arguments: [nil, "has spaces; and semicolons", String(repeating: "a", count: 129)]
    )
    func requestIDCreated(clientID: String?) async throws {
        try await withBackends(1) { backends in
            try await withProxy(backends: backends.map(\.address)) { proxy in
                let response = try await get("\(proxy.url)/headers", headers: clientID.map { [("X-Request-ID", $0)] } ?? [])
                let id = try #require(response.headers["X-Request-ID"].first)
                #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
                let seen = backends[0].backend.lastHeaders.withLock { $0 }
                #expect(seen.contains { $0.0.lowercased() == "x-request-id" && $0.1 == id })
            }
        }
    }

    @Test("keep-alive: 50 sequential requests reuse upstream connections")
    func keepAliveReuse() async throws {
        try await withBackends(2) { backends in
            try await withProxy(backends: backends.map(\.address), configure: { $0.health.interval = .seconds(60) }) { proxy in
                for _ in 0..<50 {
                    let status = try await get("\(proxy.url)/whoami").status
                    #expect(status == 200)
                }
                let connections = backends.map { $0.backend.connections.load(ordering: .relaxed) }
                // One pooled connection per backend, plus at most one for the first health check racing the first request.
                #expect(connections.allSatisfy { (1...2).contains($0) }, "backend connections: \(connections)")
            }
        }
    }

    @Test("a 64 MiB download and a 64 MiB upload stream through with bounded memory", .timeLimit(.minutes(1)))
    func largeBodies() async throws {
        try await withBackends(1) { backends in
            try await withProxy(backends: backends.map(\.address), configure: { $0.limits.maxBodyBytes = 128 << 20 }) { proxy in
                let size = 64 << 20
                let before = residentBytes()
                let download = try await streamedLength("\(proxy.url)/bytes?n=\(size)")
                #expect(download == size)
                let upload = try await uploadStreaming("\(proxy.url)/upload", bytes: size)
                #expect(upload == "\(size)")
                // Buffering either body would add ≥ 64 MiB to this process (proxy and backend live here).
                let grown = residentBytes() - before
                #expect(grown < 48 << 20, "RSS grew by \(grown >> 20) MiB")
            }
        }
    }
}
