import CityscapeKit
import CityscapeTestSupport
import Foundation
import NIOCore
import Testing

@testable import ProxyServer

/// Raw-socket probes of what the proxy does at the connection level, before and around forwarding.
@Suite("Proxy client connections: parser errors, Host, timeouts, limits, early answers")
struct ProxyConnectionTests {
    static func port(_ proxy: TestProxy) -> Int { Int(proxy.url.split(separator: ":").last!)! }

    @Test("a malformed request gets a JSON 400 and a head beyond the parser's limit a JSON 431, each closing the connection")
    func parserErrorsAreJSON() async throws {
        try await withBackends(1) { backends in
            try await withProxy(backends: backends.map(\.address), configure: { $0.health.interval = .seconds(60) }) { proxy in
                let garbage = try await rawExchange(port: Self.port(proxy), "GET\u{1} /whoami HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(statusCode(garbage) == 400, "answer: \(garbage.prefix(200))")
                #expect(garbage.contains(#""code":"bad_request""#) && garbage.lowercased().contains("connection: close"))
                let huge = "GET /whoami HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "h", count: 200_000))\r\n\r\n"
                let tooLarge = try await rawExchange(port: Self.port(proxy), huge)
                #expect(statusCode(tooLarge) == 431, "answer: \(tooLarge.prefix(200))")
                #expect(tooLarge.contains(#""code":"header_too_large""#))
                #expect(backends[0].backend.count("/whoami") == 0)
            }
        }
    }

    @Test("HTTP/1.1 without Host and two Host headers get 400; HTTP/1.0 without Host is forwarded")
    func hostRules() async throws {
        try await withBackends(1) { backends in
            try await withProxy(backends: backends.map(\.address), configure: { $0.health.interval = .seconds(60) }) { proxy in
                let missing = try await rawExchange(port: Self.port(proxy), "GET /whoami HTTP/1.1\r\n\r\n")
                #expect(statusCode(missing) == 400 && missing.contains("needs a Host header"), "answer: \(missing.prefix(200))")
                let twice = try await rawExchange(port: Self.port(proxy), "GET /whoami HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
                #expect(statusCode(twice) == 400 && twice.contains("more than one Host"), "answer: \(twice.prefix(200))")
                #expect(backends[0].backend.count("/whoami") == 0)
                let old = try await rawExchange(port: Self.port(proxy), "GET /whoami HTTP/1.0\r\n\r\n")
                #expect(statusCode(old) == 200 && old.hasSuffix("b0"), "answer: \(old.prefix(200))")
            }
        }
    }

    @Test("a request head still incomplete after --header-timeout gets 408; the backend never sees it")
    func slowHead() async throws {
        try await withBackends(1) { backends in
            try await withProxy(
                backends: backends.map(\.address),
                configure: {
                    $0.connections.headerTimeout = .milliseconds(300)
                    $0.health.interval = .seconds(60)
                }
            ) { proxy in
                let raw = try await rawConversation(
                    port: Self.port(proxy),
                    [(.zero, "GET /whoami HTTP/1.1\r\n"), (.milliseconds(100), "Host: a\r\n")]
                )
                #expect(statusCode(raw) == 408, "answer: \(raw.prefix(200))")
                #expect(raw.contains(#""code":"request_timeout""#))
                #expect(backends[0].backend.count("/whoami") == 0)
            }
        }
    }

    @Test("a request body that stalls longer than --body-timeout has its connection closed")
    func stalledBody() async throws {
        try await withBackends(1) { backends in
            try await withProxy(
                backends: backends.map(\.address),
                configure: {
                    $0.connections.bodyTimeout = .milliseconds(300)
                    $0.health.interval = .seconds(60)
                }
            ) { proxy in
                let clock = ContinuousClock()
                let start = clock.now
                // Our own read timeout is 5 s; the proxy's close must end the exchange well before it.
                _ = try await rawExchange(port: Self.port(proxy), "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc")
                #expect(clock.now - start < .seconds(4))
                let after = try await rawExchange(port: Self.port(proxy), "GET /whoami HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                #expect(statusCode(after) == 200)
            }
        }
    }

    @Test("a malformed chunk after the prefetched 64 KiB gets 400, not 502, and the backend stays healthy")
    func lateBadChunk() async throws {
        try await withBackends(1) { backends in
            try await withProxy(backends: backends.map(\.address), configure: { $0.health.interval = .seconds(60) }) { proxy in
                let chunk = "400\r\n" + String(repeating: "c", count: 1024) + "\r\n"
                let request =
                    "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: chunk, count: 70) + "zz\r\n"
                let raw = try await rawExchange(port: Self.port(proxy), request)
                #expect(statusCode(raw) == 400, "answer: \(raw.prefix(300))")
                #expect(raw.contains(#""code":"bad_framing""#))
                #expect(proxy.pool.snapshot().allSatisfy { $0.state == "healthy" })
            }
        }
    }

    @Test("a backend that answers before reading the body: the rest of the body and the next request are served")
    func earlyBackendAnswer() async throws {
        try await withBackends(1) { backends in
            try await withProxy(backends: backends.map(\.address), configure: { $0.health.interval = .seconds(60) }) { proxy in
                // `/whoami` has no POST route, so the backend answers 404 at once, while the body is still arriving.
                let raw = try await rawConversation(
                    port: Self.port(proxy),
                    [
                        (.zero, "POST /whoami HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"),
                        (.milliseconds(300), "defghij" + "GET /whoami HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
                    ]
                )
                #expect(statusCode(raw) == 404, "answer: \(raw.prefix(300))")
                #expect(raw.components(separatedBy: "HTTP/1.1 200 OK").count == 2, "answer: \(raw)")
                #expect(raw.hasSuffix("b0"))
            }
        }
    }

    @Test("connections beyond --max-connections get 503 with Retry-After; capacity returns when others close")
    func connectionLimit() async throws {
        try await withBackends(1) { backends in
            try await withProxy(
                backends: backends.map(\.address),
                configure: {
                    $0.connections.maxConnections = 2
                    $0.health.interval = .seconds(60)
                }
            ) { proxy in
                // Three clients at once on keep-alive connections, each kept open 2 s: whichever the proxy
                // accepts third (accept order across event loops is not fixed) gets the 503.
                let answers = try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<3 {
                        group.addTask {
                            try await rawExchange(port: Self.port(proxy), "GET /whoami HTTP/1.1\r\nHost: a\r\n\r\n", timeout: .seconds(2))
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(answers.map(statusCode).sorted() == [200, 200, 503], "answers: \(answers.map { $0.prefix(120) })")
                let over = try #require(answers.first { statusCode($0) == 503 })
                #expect(over.contains(#""code":"too_many_connections""#) && over.contains("Retry-After: 1"))
                #expect(backends[0].backend.count("/whoami") == 2)
                try await eventually {
                    let raw = try await rawExchange(port: Self.port(proxy), "GET /whoami HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                    return statusCode(raw) == 200
                }
            }
        }
    }

    @Test("pipelined requests on one connection are answered in order")
    func pipelined() async throws {
        try await withBackends(1) { backends in
            try await withProxy(backends: backends.map(\.address), configure: { $0.health.interval = .seconds(60) }) { proxy in
                let get = "GET /whoami HTTP/1.1\r\nHost: a\r\n\r\n"
                let raw = try await rawExchange(
                    port: Self.port(proxy),
                    get + "GET /headers HTTP/1.1\r\nHost: a\r\n\r\n" + "GET /whoami HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                )
                #expect(raw.components(separatedBy: "HTTP/1.1 200 OK").count == 4, "answer: \(raw)")
                // /headers lists what the backend got; its answer must sit between the two /whoami answers ("b0").
                let first = try #require(raw.range(of: "b0"))
                let middle = try #require(raw.range(of: "X-Forwarded-Proto: http"))
                let last = try #require(raw.range(of: "b0", options: .backwards))
                #expect(first.upperBound <= middle.lowerBound && middle.upperBound <= last.lowerBound, "answer: \(raw)")
                #expect(raw.hasSuffix("b0"))
                #expect(backends[0].backend.count("/whoami") == 2)
                // A body in the pipeline, then a request the parser rejects: the first two are served in order.
                let mixed = try await rawExchange(
                    port: Self.port(proxy),
                    "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" + get + "GET\u{1} / HTTP/1.1\r\n\r\n"
                )
                #expect(mixed.hasPrefix("HTTP/1.1 200 OK"), "answer: \(mixed)")
                #expect(mixed.components(separatedBy: "HTTP/1.1 200 OK").count == 3, "answer: \(mixed)")
                #expect(backends[0].backend.count("/upload") == 1 && backends[0].backend.count("/whoami") == 3)
            }
        }
    }

    @Test("an HTTP/1.0 client asking for keep-alive gets it, and a second answer on the same connection")
    func http10KeepAlive() async throws {
        try await withBackends(1) { backends in
            try await withProxy(backends: backends.map(\.address), configure: { $0.health.interval = .seconds(60) }) { proxy in
                let raw = try await rawExchange(
                    port: Self.port(proxy),
                    "GET /whoami HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + "GET /whoami HTTP/1.0\r\n\r\n"
                )
                #expect(raw.components(separatedBy: "HTTP/1.0 200 OK").count == 3, "answer: \(raw)")
                #expect(raw.lowercased().contains("connection: keep-alive"))
                #expect(backends[0].backend.count("/whoami") == 2)
            }
        }
    }

    @Test("a backend answer delimited by its close reaches the client whole, and the connection is not reused")
    func closeDelimitedUpstream() async throws {
        let backend = try await RawBackend(.closeDelimited)
        defer { Task { await backend.close() } }
        try await withProxy(backends: [backend.address], configure: { $0.health.interval = .seconds(60) }) { proxy in
            for _ in 0..<2 {
                let raw = try await rawExchange(port: Self.port(proxy), "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                #expect(statusCode(raw) == 200, "answer: \(raw)")
                // Re-framed for an HTTP/1.1 client: one 5-byte chunk, then the last chunk.
                #expect(raw.hasSuffix("5\r\nhello\r\n0\r\n\r\n"), "answer: \(raw)")
            }
            #expect(backend.requestCount == 2)
        }
    }

    @Test("a chunked backend answer with extensions and trailers reaches the client re-chunked, on a reused connection")
    func chunkedUpstream() async throws {
        let backend = try await RawBackend(
            .answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nT: v\r\n\r\n")
        )
        defer { Task { await backend.close() } }
        try await withProxy(backends: [backend.address], configure: { $0.health.interval = .seconds(60) }) { proxy in
            let raw = try await rawExchange(
                port: Self.port(proxy),
                "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
            )
            #expect(raw.components(separatedBy: "HTTP/1.1 200 OK").count == 3, "answer: \(raw)")
            #expect(raw.components(separatedBy: "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").count == 3, "answer: \(raw)")
            #expect(!raw.contains("T: v"))
        }
    }

    @Test("an interim 100 from the backend is passed on before the final answer")
    func interimResponse() async throws {
        let backend = try await RawBackend(.answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        defer { Task { await backend.close() } }
        try await withProxy(backends: [backend.address], configure: { $0.health.interval = .seconds(60) }) { proxy in
            let raw = try await rawExchange(port: Self.port(proxy), "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            #expect(raw.hasPrefix("HTTP/1.1 100 Continue\r\n"), "answer: \(raw)")
            #expect(raw.contains("HTTP/1.1 200 OK\r\n") && raw.hasSuffix("\r\n\r\nok"), "answer: \(raw)")
        }
    }

    @Test(
        "a backend answer with ambiguous or broken framing is a 502, never forwarded",
        arguments: [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n",
            "HTTP/2.0 200 OK\r\n\r\n",
            "garbage\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ]
    )
    func malformedUpstream(answer: String) async throws {
        let backend = try await RawBackend(.answer(answer))
        defer { Task { await backend.close() } }
        try await withProxy(backends: [backend.address], configure: { $0.health.interval = .seconds(60) }) { proxy in
            let raw = try await rawExchange(port: Self.port(proxy), "GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            if answer.contains("zz") {
                // The head was forwarded before the body broke: the client is cut off, never handed the junk.
                #expect(!raw.contains("zz"), "answer: \(raw)")
            } else {
                #expect(statusCode(raw) == 502, "answer: \(raw)")
                #expect(raw.contains("malformed response"), "answer: \(raw)")
            }
        }
    }

    @Test("an idle keep-alive connection is closed after --idle-timeout")
    func idleConnectionCloses() async throws {
        try await withBackends(1) { backends in
            try await withProxy(
                backends: backends.map(\.address),
                configure: {
                    // Long enough for a loaded test machine to send the request after connecting, which the
                    // idle timeout also bounds; short enough to end well before the exchange's own 5 s limit.
                    $0.idleTimeout = .seconds(1)
                    $0.health.interval = .seconds(60)
                }
            ) { proxy in
                let clock = ContinuousClock()
                let start = clock.now
                // A keep-alive request; the exchange ends only when the proxy closes (our own limit is 5 s).
                let raw = try await rawExchange(port: Self.port(proxy), "GET /whoami HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(statusCode(raw) == 200)
                #expect(clock.now - start < .seconds(4), "the idle connection was not closed by the proxy")
            }
        }
    }
}
