import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import UpstreamKit

/// The bytes of an upstream `GET`, as the event-loop client writes them.
@Suite("Upstream request encoding")
struct UpstreamRequestTests {
    static func encode(path: String = "/", headers: [(name: String, value: String)] = []) throws(UpstreamError) -> String {
        let buffer = try UpstreamRequest.encode(path: path, host: "127.0.0.1:8001", headers: headers, allocator: ByteBufferAllocator())
        return String(buffer: buffer)
    }

    @Test("the request line, Host and the headers in order, ended by an empty line")
    func bytes() throws {
        let text = try Self.encode(
            path: "/json?lat=1.000000&tzid=Etc/GMT%2B7",
            headers: [(name: "X-Request-ID", value: "abc-1"), (name: "Accept", value: "application/json")]
        )
        let expected =
            "GET /json?lat=1.000000&tzid=Etc/GMT%2B7 HTTP/1.1\r\nHost: 127.0.0.1:8001\r\n"
            + "X-Request-ID: abc-1\r\nAccept: application/json\r\n\r\n"
        #expect(text == expected)
    }

    @Test("what NIO's request encoder writes for the same GET")
    func sameAsNIO() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder())
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "127.0.0.1:8001")
        headers.add(name: "X-Request-ID", value: "r7")
        try channel.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/a?b=c", headers: headers)))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        var written = ""
        while let part = try channel.readOutbound(as: ByteBuffer.self) { written += String(buffer: part) }
        #expect(try Self.encode(path: "/a?b=c", headers: [(name: "X-Request-ID", value: "r7")]) == written)
    }

    @Test(
        "a header or path that would break the request's framing is refused",
        arguments: [
            ("/", "X-Request-ID", "a\r\nEvil: 1"),
            ("/", "X Request", "a"),
            ("/", "", "a"),
            ("/", "X-Request-ID", "a\u{0}"),
            ("/a b", "X-Request-ID", "a"),
            ("/a\nb", "X-Request-ID", "a"),
        ]
    )
    func refused(path: String, name: String, value: String) {
        #expect(throws: UpstreamError.invalidRequest("")) {
            try Self.encode(path: path, headers: [(name: name, value: value)])
        }
    }

    @Test("a tab and non-ASCII bytes are values NIO's validator lets through")
    func lenientValues() throws {
        let text = try Self.encode(headers: [(name: "X-Note", value: "a\tb é")])
        #expect(text.contains("X-Note: a\tb é\r\n"))
    }
}
