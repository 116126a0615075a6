import Foundation
import Testing

@testable import ProxyServer

/// Raw-socket probes: malformed or oversized requests are rejected and never reach a backend.
@Suite("Proxy defences against malformed and oversized requests")
struct ProxyDefenceTests {
    /// One probe: raw request bytes and the status the proxy must answer.
    struct Probe: Sendable, CustomTestStringConvertible {
        let name: String
        let request: String
        let status: Int
        var testDescription: String { name }
    }

    static let probes: [Probe] = [
        Probe(
            name: "Content-Length with Transfer-Encoding",
            request: "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            status: 400
        ),
        Probe(
            name: "two different Content-Length",
            request: "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            status: 400
        ),
        Probe(
            name: "two identical Content-Length",
            request: "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
            status: 400
        ),
        Probe(name: "Content-Length list", request: "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", status: 400),
        Probe(
            name: "invalid chunk size",
            request: "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            status: 400
        ),
        Probe(
            name: "chunk size overflow",
            request: "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nhello\r\n0\r\n\r\n",
            status: 400
        ),
        Probe(name: "unknown transfer coding", request: "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", status: 400),
        Probe(name: "obs-fold", request: "GET /whoami HTTP/1.1\r\nHost: a\r\nX-Fold: first\r\n  second\r\n\r\n", status: 400),
        Probe(name: "space in request target", request: "GET /who ami HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        // Targets that are not a path would be glued to the backend URL: another host, or a port NIO traps on.
        Probe(name: "target switching the upstream host", request: "GET @127.0.0.1:1/whoami HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Probe(name: "target overflowing the upstream port", request: "GET 1/whoami HTTP/1.1\r\nHost: a\r\n\r\n", status: 400),
        Probe(name: "space in header name", request: "GET /whoami HTTP/1.1\r\nHost: a\r\nX Bad: 1\r\n\r\n", status: 400),
        Probe(
            name: "head over --max-header-bytes",
            request: "GET /whoami HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "a", count: 5000))\r\n\r\n",
            status: 431
        ),
        Probe(
            name: "Content-Length over --max-body-bytes",
            request: "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n\(String(repeating: "b", count: 5000))",
            status: 413
        ),
    ]

    @Test("rejected with the right status, backend untouched", arguments: probes)
    func probe(_ probe: Probe) async throws {
        try await withBackends(1) { backends in
            try await withProxy(
                backends: backends.map(\.address),
                configure: {
                    $0.limits.maxHeaderBytes = 4096
                    $0.limits.maxBodyBytes = 4096
                    $0.health.interval = .seconds(60)
                }
            ) { proxy in
                let port = Int(proxy.url.split(separator: ":").last!)!
                let raw = try await rawExchange(port: port, probe.request, timeout: .seconds(3))
                #expect(statusCode(raw) == probe.status, "answer: \(raw.prefix(200))")
                let reached = backends[0].backend.count("/upload") + backends[0].backend.count("/whoami")
                #expect(reached == 0, "the backend saw the rejected request")
            }
        }
    }

    @Test("a chunked body growing over --max-body-bytes gets 413")
    func chunkedOverLimit() async throws {
        try await withBackends(1) { backends in
            try await withProxy(
                backends: backends.map(\.address),
                configure: {
                    $0.limits.maxBodyBytes = 1000
                    $0.health.interval = .seconds(60)
                }
            ) { proxy in
                let port = Int(proxy.url.split(separator: ":").last!)!
                let chunk = String(repeating: "c", count: 600)
                let request = "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n"
                let raw = try await rawExchange(port: port, request, timeout: .seconds(3))
                #expect(statusCode(raw) == 413, "answer: \(raw.prefix(200))")
                #expect(raw.contains(#""code":"body_too_large""#))
            }
        }
    }

    @Test("a well-formed request through the same raw path is forwarded (the probes can pass)")
    func control() async throws {
        try await withBackends(1) { backends in
            try await withProxy(backends: backends.map(\.address), configure: { $0.health.interval = .seconds(60) }) { proxy in
                let port = Int(proxy.url.split(separator: ":").last!)!
                let raw = try await rawExchange(port: port, "GET /whoami HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                #expect(statusCode(raw) == 200)
                #expect(raw.hasSuffix("b0"))
                #expect(backends[0].backend.count("/whoami") == 1)
            }
        }
    }
}
