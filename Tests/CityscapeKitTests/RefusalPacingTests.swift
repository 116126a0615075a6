import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import CityscapeKit

@Suite("Refusal pacing: a request sent before its Retry-After is held until then")
struct RefusalPacingTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func response(_ status: HTTPResponseStatus, retryAfter: String? = nil) -> HTTPResponseHead {
        var headers = HTTPHeaders([("content-length", "0")])
        if let retryAfter { headers.add(name: "retry-after", value: retryAfter) }
        return HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    }

    static let request = HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/a"))

    @Test("only a 503 or 429 with a positive delta-seconds Retry-After asks for a delay")
    func retryAfterValues() {
        #expect(RefusalPacing.retryAfter(of: Self.response(.serviceUnavailable, retryAfter: "2")) == .seconds(2))
        #expect(RefusalPacing.retryAfter(of: Self.response(.tooManyRequests, retryAfter: "1")) == .seconds(1))
        #expect(RefusalPacing.retryAfter(of: Self.response(.serviceUnavailable)) == nil)
        #expect(RefusalPacing.retryAfter(of: Self.response(.serviceUnavailable, retryAfter: "0")) == nil)
        #expect(RefusalPacing.retryAfter(of: Self.response(.serviceUnavailable, retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT")) == nil)
        #expect(RefusalPacing.retryAfter(of: Self.response(.ok, retryAfter: "1")) == nil)
    }

    @Test("a request before the deadline is held with what follows it, and released with the reads asked for meanwhile")
    func holdAndRelease() {
        var pacing = RefusalPacing(longestHold: .seconds(1))
        let beforeRefusal = pacing.requestPart(Self.request, now: Self.start)
        #expect(isForward(beforeRefusal))
        pacing.responseHead(Self.response(.serviceUnavailable, retryAfter: "1"), now: Self.start)
        let early = Self.start + .milliseconds(10)
        guard case .hold(let releaseAt) = pacing.requestPart(Self.request, now: early) else {
            Issue.record("a request 10 ms after a 503 with Retry-After: 1 was not held")
            return
        }
        #expect(releaseAt == Self.start + .seconds(1))
        guard case .hold(nil) = pacing.requestPart(.end(nil), now: early) else {
            Issue.record("the held request's end passed")
            return
        }
        let readPassed = pacing.readRequested()
        #expect(!readPassed)
        guard case .release(let parts, let read) = pacing.timerFired() else {
            Issue.record("the timer released nothing")
            return
        }
        #expect(parts.count == 2 && read)
        let afterRelease = pacing.requestPart(Self.request, now: Self.start + .seconds(2))
        #expect(isForward(afterRelease))
        let readAfter = pacing.readRequested()
        #expect(readAfter)
    }

    @Test("the hold is capped, a request after the deadline passes, and a success ends the pacing")
    func capDeadlineAndSuccess() {
        var pacing = RefusalPacing(longestHold: .milliseconds(500))
        pacing.responseHead(Self.response(.serviceUnavailable, retryAfter: "3600"), now: Self.start)
        guard case .hold(let releaseAt) = pacing.requestPart(Self.request, now: Self.start) else {
            Issue.record("not held")
            return
        }
        #expect(releaseAt == Self.start + .milliseconds(500))
        _ = pacing.timerFired()

        pacing.responseHead(Self.response(.serviceUnavailable, retryAfter: "1"), now: Self.start)
        let atDeadline = pacing.requestPart(Self.request, now: Self.start + .seconds(1))
        #expect(isForward(atDeadline))

        pacing.responseHead(Self.response(.serviceUnavailable, retryAfter: "1"), now: Self.start)
        pacing.responseHead(Self.response(.ok), now: Self.start)
        let afterSuccess = pacing.requestPart(Self.request, now: Self.start)
        #expect(isForward(afterSuccess))
    }

    @Test("the rest of a request that began before the refusal passes")
    func bodyOfEarlierRequestPasses() {
        var pacing = RefusalPacing(longestHold: .seconds(1))
        pacing.responseHead(Self.response(.serviceUnavailable, retryAfter: "1"), now: Self.start)
        let body = pacing.requestPart(.body(ByteBuffer(string: "x")), now: Self.start)
        #expect(isForward(body))
        let end = pacing.requestPart(.end(nil), now: Self.start)
        #expect(isForward(end))
    }

    @Test("in a channel: the next request reaches the application only when the Retry-After has passed")
    func inChannel() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: RefusalPacer(longestHold: .seconds(5)), loop: loop)
        try channel.writeInbound(Self.request)
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) != nil)
        try channel.writeOutbound(HTTPServerResponsePart.head(Self.response(.serviceUnavailable, retryAfter: "1")))
        try channel.writeInbound(Self.request)
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil)
        loop.advanceTime(by: .milliseconds(999))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == nil)
        loop.advanceTime(by: .milliseconds(1))
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == Self.request)
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) == .end(nil))
        _ = try channel.finish()
    }

    private func isForward(_ action: RefusalPacing.PartAction) -> Bool {
        if case .forward = action { return true }
        return false
    }
}
