import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Testing

@testable import CityscapeKit

/// `RequestAssembly`, the state machine of `RouterRequestHandler`, event by event.
@Suite("Request assembly: collecting a request, answering it, rejecting what is too large or malformed")
struct RequestAssemblyTests {
    static let get = HTTPRequest(method: .get, scheme: nil, authority: "h", path: "/a")

    static func post(declaring length: Int?) -> HTTPRequest {
        var head = HTTPRequest(method: .post, scheme: nil, authority: "h", path: "/a")
        if let length { head.headerFields[.contentLength] = String(length) }
        return head
    }

    @Test("a request without a body is answered at its end, and the connection stays for the next")
    func plainRequest() {
        var assembly = RequestAssembly.idle
        guard case .none = assembly.read(.head(Self.get)) else { Issue.record("head answered early"); return }
        guard case .respond(let head, let body) = assembly.read(.end(nil)) else { Issue.record("end did not respond"); return }
        #expect(head.path == "/a")
        #expect(body == nil)
        #expect(assembly.responded(requestAskedToClose: false) == .keepOpen)
        guard case .idle = assembly else { Issue.record("not idle after the answer: \(assembly)"); return }
    }

    @Test("body parts are joined into one buffer handed over with the request")
    func bodyCollected() {
        var assembly = RequestAssembly.idle
        _ = assembly.read(.head(Self.post(declaring: nil)))
        _ = assembly.read(.body(ByteBuffer(string: "hello ")))
        _ = assembly.read(.body(ByteBuffer(string: "world")))
        guard case .respond(_, let body) = assembly.read(.end(nil)) else { Issue.record("end did not respond"); return }
        #expect(body.map { String(buffer: $0) } == "hello world")
    }

    @Test("a declared length over the limit is rejected at the head, before any body byte")
    func declaredTooLarge() {
        var assembly = RequestAssembly.idle
        guard case .reject(let error) = assembly.read(.head(Self.post(declaring: RequestAssembly.maximumBodyBytes + 1))) else {
            Issue.record("not rejected")
            return
        }
        #expect(error.status == .contentTooLarge)
        #expect(error.code == "body_too_large")
        // The rest of that request is ignored.
        guard case .none = assembly.read(.body(ByteBuffer(string: "x"))), case .none = assembly.read(.end(nil)) else {
            Issue.record("input after a rejection was acted on")
            return
        }
    }

    @Test("a body that grows over the limit is rejected when it does; the limit itself is accepted")
    func bodyGrowsTooLarge() {
        var assembly = RequestAssembly.idle
        _ = assembly.read(.head(Self.post(declaring: nil)))
        let half = ByteBuffer(repeating: 0x61, count: RequestAssembly.maximumBodyBytes / 2)
        guard case .none = assembly.read(.body(half)), case .none = assembly.read(.body(half)) else {
            Issue.record("the limit itself was rejected")
            return
        }
        guard case .reject(let error) = assembly.read(.body(ByteBuffer(string: "x"))) else { Issue.record("not rejected"); return }
        #expect(error.status == .contentTooLarge)
    }

    @Test("a parser error answers 400 between requests, but waits for an answer under way and then closes")
    func parserErrors() {
        var idle = RequestAssembly.idle
        #expect(idle.failed(parserError: true) == .answerBadRequest)
        var other = RequestAssembly.idle
        #expect(other.failed(parserError: false) == .close)

        var busy = RequestAssembly.idle
        _ = busy.read(.head(Self.get))
        _ = busy.read(.end(nil))
        #expect(busy.failed(parserError: true) == .none)
        #expect(busy.responded(requestAskedToClose: false) == .close)
    }

    @Test("a client that shuts its side is closed at once between requests, after the answer during one")
    func inputClosed() {
        var idle = RequestAssembly.idle
        #expect(idle.inputClosed() == .close)
        var collecting = RequestAssembly.idle
        _ = collecting.read(.head(Self.get))
        #expect(collecting.inputClosed() == .close)
        var busy = RequestAssembly.idle
        _ = busy.read(.head(Self.get))
        _ = busy.read(.end(nil))
        #expect(busy.inputClosed() == .none)
        #expect(busy.responded(requestAskedToClose: false) == .close)
    }

    @Test("Connection: close on the request closes after its answer")
    func requestAskedToClose() {
        var assembly = RequestAssembly.idle
        _ = assembly.read(.head(Self.get))
        _ = assembly.read(.end(nil))
        #expect(assembly.responded(requestAskedToClose: true) == .close)
    }

    @Test(
        "the Date header is the IMF-fixdate of RFC 9110",
        arguments: [(0, "Thu, 01 Jan 1970 00:00:00 GMT"), (1_796_556_477, "Sun, 06 Dec 2026 11:27:57 GMT")]
    )
    func dateHeader(seconds: Int, expected: String) {
        #expect(DateHeader.format(seconds) == expected)
    }
}
