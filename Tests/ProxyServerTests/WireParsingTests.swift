import NIOCore
import NIOHTTP1
import Testing

@testable import ProxyServer

/// The proxy's in-place HTTP/1 parsing: heads, bodies, and what a backend's response head says.
@Suite("Wire parsing: heads, bodies, response framing")
struct WireParsingTests {
    static func scan(_ text: String, _ kind: HeadScanner.Kind = .response, limit: Int = 1024) throws(HeadScanner.Failure) -> (WireHead?, ByteBuffer) {
        var scanner = HeadScanner(kind: kind, limit: limit)
        var buffer = ByteBuffer(string: text)
        let head = try scanner.next(from: &buffer)
        return (head, buffer)
    }

    @Test("a response head is parsed in place; what follows it stays in the buffer")
    func responseHead() throws {
        let (parsed, rest) = try Self.scan("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Empty:\r\nX-Pad:  a b \t\r\n\r\nbody")
        let head = try #require(parsed)
        #expect(head.string(head.startLine.0) == "HTTP/1.1")
        #expect(head.string(head.startLine.1) == "200")
        #expect(head.string(head.startLine.2) == "OK")
        #expect(head.fields.map { head.string($0.name) } == ["Content-Type", "X-Empty", "X-Pad"])
        #expect(head.fields.map { head.string($0.value) } == ["text/plain", "", "a b"])
        #expect(head.matches(head.fields[0].name, "content-type"))
        #expect(head.string(head.fields[2].lineStart..<head.fields[2].lineEnd) == "X-Pad:  a b \t\r\n")
        #expect(String(buffer: rest) == "body")
    }

    @Test("a head arriving a byte at a time is found once complete, and nothing is lost")
    func byteByByte() throws {
        let text = "GET /a?b=c HTTP/1.0\r\nHost: x\r\n\r\nGET /next"
        var scanner = HeadScanner(kind: .request, limit: 1024)
        var buffer = ByteBuffer()
        var found: WireHead?
        for byte in text.utf8 {
            buffer.writeInteger(byte)
            if let head = try scanner.next(from: &buffer) {
                #expect(found == nil)
                found = head
            }
        }
        let head = try #require(found)
        #expect([head.string(head.startLine.0), head.string(head.startLine.1), head.string(head.startLine.2)] == ["GET", "/a?b=c", "HTTP/1.0"])
        #expect(String(buffer: buffer) == "GET /next")
    }

    @Test("heads read one after another from one scanner keep their own fields and bytes, kept or let go", arguments: [false, true])
    func consecutiveHeads(copiesHeads: Bool) throws {
        var scanner = HeadScanner(kind: .request, limit: 1024, copiesHeads: copiesHeads)
        var buffer = ByteBuffer(
            string: "GET /1 HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\nGET /2 HTTP/1.1\r\nC: 3\r\n\r\nGET /3 HTTP/1.1\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n"
        )
        let first = try #require(try scanner.next(from: &buffer))
        // `first` is still held while the second is parsed; the second is let go before the third.
        let second = try #require(try scanner.next(from: &buffer)).fields.map { $0.value }
        let third = try #require(try scanner.next(from: &buffer))
        #expect(first.fields.map { first.string($0.name) + "=" + first.string($0.value) } == ["A=1", "B=2"])
        #expect(first.string(first.startLine.1) == "/1" && third.string(third.startLine.1) == "/3")
        #expect(second.count == 1)
        #expect(third.fields.map { third.string($0.name) + "=" + third.string($0.value) } == ["D=4", "E=5", "F=6"])
        #expect(buffer.readableBytes == 0)
    }

    @Test("a copied head leaves the bytes it was read from unshared, so a read buffer can be read into again")
    func copiedHeadLetsGoOfTheReadBuffer() throws {
        for copiesHeads in [false, true] {
            var scanner = HeadScanner(kind: .request, limit: 1024, copiesHeads: copiesHeads)
            var read = ByteBuffer(string: "GET /kept HTTP/1.1\r\nHost: a\r\n\r\n")
            let head = try #require(try scanner.next(from: &read))
            let readIsFree = read.modifyIfUniquelyOwned { _ in true } ?? false
            #expect(readIsFree == copiesHeads)
            #expect(head.string(head.startLine.1) == "/kept" && head.fields.count == 1)
        }
    }

    @Test("empty lines before a request line are skipped")
    func leadingEmptyLines() throws {
        let (head, _) = try Self.scan("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", .request)
        #expect(head.map { $0.string($0.startLine.1) } == "/")
    }

    @Test(
        "malformed heads are refused with the reason",
        arguments: [
            ("HTTP/1.1 200 OK\nA: b\r\n\r\n", "bare LF"),
            ("HTTP/1.1 200 OK\r\n folded\r\n\r\n", "folding"),
            ("HTTP/1.1 200 OK\r\nName : v\r\n\r\n", "before its colon"),
            ("HTTP/1.1 200 OK\r\nA: b\u{1}c\r\n\r\n", "control character"),
            ("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "bare CR"),
            ("HTTP/1.1 20 OK\r\n\r\n", "three digits"),
            ("HTTQ/1.1 200 OK\r\n\r\n", "version"),
            ("HTTP/1.1 200 OK\r\n: empty\r\n\r\n", "name is empty"),
        ]
    )
    func malformed(text: String, reason: String) {
        #expect {
            _ = try Self.scan(text)
        } throws: { error in
            guard case HeadScanner.Failure.malformed(let message) = error else { return false }
            return message.contains(reason)
        }
    }

    @Test("request lines: a target with a space or a control byte, or a missing method, is malformed")
    func badRequestLines() {
        for text in ["GET /a b HTTP/1.1\r\n\r\n", "GET /a\u{7f} HTTP/1.1\r\n\r\n", " / HTTP/1.1\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n"] {
            #expect(throws: HeadScanner.Failure.self) { _ = try Self.scan(text, .request) }
        }
    }

    @Test("HTTP/2.0 and HTTP/0.9 lines are an unsupported version; a head over the limit is too large")
    func versionsAndLimits() {
        #expect(throws: HeadScanner.Failure.unsupportedVersion) { _ = try Self.scan("HTTP/2.0 200 OK\r\n\r\n") }
        #expect(throws: HeadScanner.Failure.unsupportedVersion) { _ = try Self.scan("GET / HTTP/0.9\r\n\r\n", .request) }
        let big = "HTTP/1.1 200 OK\r\nA: " + String(repeating: "x", count: 2000)
        #expect(throws: HeadScanner.Failure.tooLarge) { _ = try Self.scan(big) }
        #expect(throws: HeadScanner.Failure.tooLarge) { _ = try Self.scan(big + "\r\n\r\n") }
    }

    // MARK: Bodies

    static func decode(_ framing: BodyDecoder.Framing, _ pieces: [String]) throws(BodyDecoder.Failure) -> (String, ended: Bool, rest: String) {
        var decoder = BodyDecoder(framing)
        var buffer = ByteBuffer()
        var payload = ""
        for piece in pieces {
            buffer.writeString(piece)
            while let output = try decoder.next(from: &buffer) {
                switch output {
                case .data(let bytes): payload += String(buffer: bytes)
                case .end: return (payload, true, String(buffer: buffer))
                }
            }
        }
        return (payload, false, String(buffer: buffer))
    }

    @Test("Content-Length bodies end exactly at their length")
    func lengthBody() throws {
        let (payload, ended, rest) = try Self.decode(.length(5), ["he", "lloNEXT"])
        #expect(payload == "hello" && ended && rest == "NEXT")
    }

    @Test("chunked bodies: framing, extensions and trailers are taken off, byte by byte as well as whole")
    func chunkedBody() throws {
        let wire = "5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\nTrailer: x\r\n\r\nNEXT"
        let whole = try Self.decode(.chunked, [wire])
        #expect(whole.0 == "hello, world!!!" && whole.ended && whole.rest == "NEXT")
        let bytes = try Self.decode(.chunked, wire.map { String($0) })
        #expect(bytes.0 == "hello, world!!!" && bytes.ended)
    }

    @Test(
        "malformed chunked bodies are refused",
        arguments: [
            "x\r\n", "5\r\nhelloXX", "5 junk\r\nhello\r\n", "5\nhello\r\n", "FFFFFFFFFFFFFFFF\r\n",
            "0\r\n" + String(repeating: "T: v\r\n", count: 2000),
        ]
    )
    func malformedChunks(wire: String) {
        #expect(throws: BodyDecoder.Failure.self) { _ = try Self.decode(.chunked, [wire]) }
    }

    // MARK: Response framing

    static func response(_ text: String, toHEAD: Bool = false) throws -> UpstreamResponseHead {
        let (wire, _) = try scan(text)
        return try UpstreamResponseHead(try #require(wire), toHEAD: toHEAD)
    }

    @Test("framing and reuse follow RFC 9112 §6.3 and §9.3")
    func responseFraming() throws {
        let sized = try Self.response("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n")
        #expect(sized.framing == .length(5) && sized.keepAlive && sized.status == .ok)
        #expect(try Self.response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", toHEAD: true).framing == .none)
        #expect(try Self.response("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n").framing == .none)
        #expect(try Self.response("HTTP/1.1 204 No Content\r\n\r\n").framing == .none)
        #expect(try Self.response("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n").framing == .chunked)
        let closeDelimited = try Self.response("HTTP/1.1 200 OK\r\n\r\n")
        #expect(closeDelimited.framing == .untilClose && !closeDelimited.keepAlive)
        #expect(!(try Self.response("HTTP/1.1 200 OK\r\nConnection: x, close\r\nContent-Length: 0\r\n\r\n").keepAlive))
        #expect(!(try Self.response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive))
        #expect(try Self.response("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keepAlive)
        let custom = try Self.response("HTTP/1.1 299 Fine Thanks\r\nContent-Length: 0\r\n\r\n")
        #expect(custom.status.code == 299 && custom.status.reasonPhrase == "Fine Thanks")
    }

    @Test(
        "ambiguous response framing is refused, never guessed",
        arguments: [
            "Transfer-Encoding: chunked\r\nContent-Length: 5", "Content-Length: 5\r\nContent-Length: 6", "Content-Length: 5x",
            "Content-Length: -1", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked, gzip",
        ]
    )
    func ambiguousFraming(fields: String) {
        #expect(throws: BackendFailure.self) { _ = try Self.response("HTTP/1.1 200 OK\r\n\(fields)\r\n\r\n") }
    }
}
