import CityscapeKit
import NIOCore
import NIOHTTP1
import Testing

@testable import ProxyServer

/// The heads the proxy writes (to a backend, to a client), byte for byte, and the writer under them.
@Suite("Head writing: forwarded request and response heads")
struct HeadWritingTests {
    static func request(_ text: String) throws -> ClientRequestHead {
        var scanner = HeadScanner(kind: .request, limit: 64 * 1024)
        var buffer = ByteBuffer(string: text)
        return ClientRequestHead(try #require(try scanner.next(from: &buffer)))
    }

    static func response(_ text: String) throws -> UpstreamResponseHead {
        var scanner = HeadScanner(kind: .response, limit: 64 * 1024)
        var buffer = ByteBuffer(string: text)
        return try UpstreamResponseHead(try #require(try scanner.next(from: &buffer)), toHEAD: false)
    }

    static let backend = BackendAddress(host: "10.0.0.9", port: 8010)

    @Test("a request head: kept lines copied as sent, framing re-stated, forwarding headers written by the proxy")
    func requestHead() throws {
        let head = try Self.request(
            "POST /form?a=1 HTTP/1.0\r\nHost: shop.example\r\nX-Forwarded-For: 203.0.113.7\r\nContent-Length: 0012\r\n"
                + "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nX_Sneaky: 1\r\nX-Real-IP: 6.6.6.6\r\nAccept:  */* \r\n"
                + "X-Forwarded-For: 198.51.100.1\r\n\r\n"
        )
        var headers = ForwardedRequestHeaders()
        headers.clientAddress = "127.0.0.1"
        var buffer = ByteBuffer(string: "already there|")
        headers.write(head, body: .known(12), requestID: "id-1", backend: Self.backend, into: &buffer)
        #expect(
            String(buffer: buffer)
                == "already there|POST /form?a=1 HTTP/1.1\r\nAccept:  */* \r\nHost: shop.example\r\nContent-Length: 12\r\n"
                + "X-Forwarded-For: 203.0.113.7, 198.51.100.1, 127.0.0.1\r\nX-Forwarded-Proto: http\r\n"
                + "X-Forwarded-Host: shop.example\r\nX-Real-IP: 127.0.0.1\r\nX-Request-ID: id-1\r\n\r\n"
        )
    }

    @Test("a request with no Host gets the backend's; a chunked one says so; no client address, no X-Forwarded-For")
    func requestHeadDefaults() throws {
        let head = try Self.request("GET / HTTP/1.0\r\n\r\n")
        var buffer = ByteBuffer()
        ForwardedRequestHeaders().write(head, body: .chunked, requestID: "id-2", backend: Self.backend, into: &buffer)
        #expect(
            String(buffer: buffer)
                == "GET / HTTP/1.1\r\nHost: 10.0.0.9:8010\r\nTransfer-Encoding: chunked\r\nX-Forwarded-Proto: http\r\nX-Request-ID: id-2\r\n\r\n"
        )
    }

    /// The bound `ForwardedRequestHeaders` states must hold for the heads that copy the most: a long host
    /// written twice, and many X-Forwarded-For values joined into one line.
    @Test("the largest heads fit the bound their writer states", arguments: [1, 200, 1800])
    func largestHeads(fields: Int) throws {
        let host = String(repeating: "h", count: 4000)
        var text = "GET /\(String(repeating: "p", count: 2000)) HTTP/1.1\r\nHost: \(host)\r\n"
        for index in 0..<fields { text += "X-Forwarded-For: 192.0.2.\(index % 250)\r\n" }
        let head = try Self.request(text + "\r\n")
        var headers = ForwardedRequestHeaders()
        headers.clientAddress = "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
        var buffer = ByteBuffer()
        headers.write(head, body: .known(Int.max), requestID: .given(String(repeating: "r", count: 128)), backend: Self.backend, into: &buffer)
        let written = String(buffer: buffer)
        #expect(written.hasSuffix("X-Request-ID: \(String(repeating: "r", count: 128))\r\n\r\n"))
        #expect(written.contains("Content-Length: \(Int.max)\r\n"))
        #expect(written.contains("\r\nX-Forwarded-Host: \(host)\r\n"))
        let forwarded = try #require(written.split(separator: "\r\n").first { $0.hasPrefix("X-Forwarded-For: ") })
        #expect(forwarded.split(separator: ",").count == fields + 1)
    }

    @Test("a response head: hop-by-hop and the backend's X-Request-ID dropped, the proxy's headers added")
    func responseHead() throws {
        let head = try Self.response(
            "HTTP/1.1 404 Not Found\r\nConnection: X-Resp-Hop\r\nX-Resp-Hop: 1\r\nX-Request-ID: theirs\r\nContent-Length: 2\r\n"
                + "X-End: kept\r\n\r\n"
        )
        var buffer = ByteBuffer()
        ForwardedResponseHeaders.write(head, version: .http1_0, requestID: "ours", connection: "keep-alive", chunked: true, into: &buffer)
        #expect(
            String(buffer: buffer)
                == "HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\nX-End: kept\r\nX-Request-ID: ours\r\nConnection: keep-alive\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n"
        )
    }

    @Test("a drawn request id is its 128 bits as 32 hex digits, the same in the head as in a log line")
    func drawnRequestID() throws {
        let id = ProxyRequestID.drawn(0x0123_4567_89ab_cdef, 0x0000_0000_0000_00f0)
        #expect(id.description == "0123456789abcdef00000000000000f0")
        #expect(id.byteCount == 32)
        var buffer = ByteBuffer()
        buffer.write(atMost: id.byteCount) { $0.write(requestID: id) }
        #expect(String(buffer: buffer) == id.description)
    }

    @Test("numbers are written in decimal, from 0 to Int.max", arguments: [0, 7, 10, 99, 100, 65_536, Int.max])
    func decimals(value: Int) {
        var buffer = ByteBuffer()
        buffer.write(atMost: ByteWriter.maxDecimalBytes) { $0.write(decimal: value) }
        #expect(String(buffer: buffer) == String(value))
    }
}
