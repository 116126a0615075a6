import NIOCore
import Testing

@testable import UpstreamKit

/// The event-loop client's HTTP/1.1 response parser, fed bytes as a socket might deliver them.
@Suite("Upstream response parser")
struct ResponseParserTests {
    /// The events of `bytes` fed in `pieces` of at most `step` bytes, then the end of input when `eof`; consecutive
    /// body parts are joined, so every way of cutting the same bytes must give the same transcript.
    static func transcript(_ bytes: String, step: Int = .max, eof: Bool = false) throws(UpstreamError) -> [String] {
        var parser = ResponseParser()
        var events: [String] = []
        let all = Array(bytes.utf8)
        var offset = 0
        while offset < all.count {
            let piece = all[offset..<min(all.count, offset + step)]
            parser.feed(ByteBuffer(bytes: piece))
            offset += piece.count
            while let event = try parser.next() { record(event, in: &events) }
        }
        if eof, let event = try parser.endOfInput() { record(event, in: &events) }
        return events
    }

    /// Appends `event` to a transcript, joining a body part to the part before it.
    static func record(_ event: ResponseParser.Event, in events: inout [String]) {
        switch event {
        case .head(let status, let keepAlive):
            events.append("head \(status) \(keepAlive ? "keep-alive" : "close")")
        case .body(let part):
            if let last = events.last, last.hasPrefix("body ") {
                events[events.count - 1] = last + String(buffer: part)
            } else {
                events.append("body " + String(buffer: part))
            }
        case .end:
            events.append("end")
        }
    }

    /// The same bytes fed whole, in two pieces cut at every offset, and byte by byte: one transcript.
    static func everyCut(_ bytes: String, eof: Bool = false) throws -> [String] {
        let whole = try transcript(bytes, eof: eof)
        #expect(try transcript(bytes, step: 1, eof: eof) == whole)
        let all = Array(bytes.utf8)
        for cut in 1..<all.count {
            var parser = ResponseParser()
            var events: [String] = []
            for piece in [all[..<cut], all[cut...]] {
                parser.feed(ByteBuffer(bytes: piece))
                while let event = try parser.next() { record(event, in: &events) }
            }
            if eof, let event = try parser.endOfInput() { record(event, in: &events) }
            #expect(events == whole, "cut at \(cut)")
        }
        return whole
    }

    @Test("a Content-Length answer as the services send it, however the socket cuts it")
    func contentLength() throws {
        let response =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 11\r\n"
            + "Date: Sun, 06 Dec 2026 14:00:00 GMT\r\nServer-Timing: total;dur=0.1\r\n\r\n{\"a\":\"bc\"}\n"
        #expect(try Self.everyCut(response) == ["head 200 keep-alive", "body {\"a\":\"bc\"}\n", "end"])
    }

    @Test("two answers in one read are two exchanges; an empty body has no body event")
    func backToBack() throws {
        let two = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\ncontent-LENGTH: 2\r\n\r\nok"
        #expect(try Self.everyCut(two) == ["head 404 keep-alive", "end", "head 200 keep-alive", "body ok", "end"])
    }

    @Test("a chunked body with extensions and trailers")
    func chunked() throws {
        let response =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\nA \r\n0123456789\r\n0\r\n"
            + "X-Checksum: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
        #expect(try Self.everyCut(response) == ["head 200 keep-alive", "body hello world0123456789", "end", "head 204 keep-alive", "end"])
    }

    @Test("interim 1xx answers are skipped, with their headers")
    func interim() throws {
        let response = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
        #expect(try Self.everyCut(response) == ["head 200 keep-alive", "body x", "end"])
    }

    @Test("204 and 304 have no body whatever their Content-Length says")
    func noBody() throws {
        let response = "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n"
        #expect(try Self.everyCut(response) == ["head 304 keep-alive", "end", "head 204 keep-alive", "end"])
    }

    @Test("without Content-Length or chunked the body runs until the upstream closes, and the connection is not reused")
    func untilClose() throws {
        #expect(try Self.everyCut("HTTP/1.1 200 OK\r\n\r\nall of it", eof: true) == ["head 200 close", "body all of it", "end"])
        #expect(try Self.transcript("HTTP/1.1 200 OK\r\n\r\n", eof: true) == ["head 200 close", "end"])
    }

    @Test(
        "whether the connection stays open",
        arguments: [
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n", true),
            ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", true),
        ]
    )
    func keepAlive(response: String, keepAlive: Bool) throws {
        #expect(try Self.transcript(response) == ["head 200 \(keepAlive ? "keep-alive" : "close")", "end"])
    }

    @Test(
        "a response that cannot be framed with certainty is refused, and nothing after it is read",
        arguments: [
            "HTTP/2 200\r\n\r\n",
            "SSH-2.0-OpenSSH\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 099 Low\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n",
            "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad Name: 1\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\n: empty name\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX-A: a\u{1}b\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 O\u{7F}K\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n",
        ]
    )
    func malformed(response: String) {
        // Cut anywhere, the same bytes fail the same way, and later bytes produce nothing.
        for step in [Int.max, 1] {
            #expect(throws: UpstreamError.connectionReset("")) { _ = try Self.transcript(response + "HTTP/1.1 200 OK\r\n\r\n", step: step) }
        }
    }

    @Test("a declared or chunked body over the limit is refused before it is read")
    func tooLarge() throws {
        let limit = UpstreamLimits.maximumBodyBytes
        #expect(throws: UpstreamError.bodyTooLarge("")) { _ = try Self.transcript("HTTP/1.1 200 OK\r\nContent-Length: \(limit + 1)\r\n\r\n") }
        let hex = String(limit * 16, radix: 16)
        #expect(throws: UpstreamError.bodyTooLarge("")) { _ = try Self.transcript("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(hex)\r\n") }
        // At the limit the head is accepted; the exchange counts what actually arrives.
        #expect(try Self.transcript("HTTP/1.1 200 OK\r\nContent-Length: \(limit)\r\n\r\n") == ["head 200 keep-alive"])
    }

    @Test("a head or chunk line that never ends is refused at its limit, not buffered forever")
    func endlessLines() {
        let endlessHead = "HTTP/1.1 200 OK\r\nX-Filler: " + String(repeating: "a", count: ResponseParser.maximumHeadBytes)
        #expect(throws: UpstreamError.connectionReset("")) { _ = try Self.transcript(endlessHead, step: 4096) }
        let manyFields = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-A: 1\r\n", count: ResponseParser.maximumHeadBytes / 8) + "\r\n"
        #expect(throws: UpstreamError.connectionReset("")) { _ = try Self.transcript(manyFields) }
        let endlessChunkLine =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "e", count: ResponseParser.maximumLineBytes)
        #expect(throws: UpstreamError.connectionReset("")) { _ = try Self.transcript(endlessChunkLine, step: 512) }
    }

    @Test("the upstream closing between answers ends nothing; closing inside one is an error")
    func endOfInput() throws {
        #expect(try Self.transcript("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", eof: true) == ["head 200 keep-alive", "body x", "end"])
        #expect(try Self.transcript("", eof: true) == [])
        for truncated in [
            "HTTP/1.1 200 OK\r\nContent-Le",
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        ] {
            #expect(throws: UpstreamError.connectionReset(""), "\(truncated)") { _ = try Self.transcript(truncated, eof: true) }
        }
    }
}
