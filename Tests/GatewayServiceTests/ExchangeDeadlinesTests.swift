import NIOCore
import NIOEmbedded
import Testing

@testable import UpstreamKit

/// The single timer behind the upstream exchanges' deadlines, on an embedded loop whose clock the test moves.
@Suite("Upstream exchange deadlines")
struct ExchangeDeadlinesTests {
    /// A connection's last handler in an embedded channel, with an exchange sent on it.
    struct Exchange {
        let channel: EmbeddedChannel
        let handler: UpstreamExchangeHandler
        let number: UInt64
        let result: EventLoopFuture<UpstreamResponse>

        init(on loop: EmbeddedEventLoop) throws {
            handler = UpstreamExchangeHandler()
            channel = EmbeddedChannel(handler: handler, loop: loop)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            let promise = loop.makePromise(of: UpstreamResponse.self)
            result = promise.futureResult
            number = try #require(handler.send(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"), waiter: .promise(promise)))
        }

        func answer() throws {
            try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        }
    }

    static func outcome(_ future: EventLoopFuture<UpstreamResponse>) -> Result<Int, UpstreamError>? {
        var outcome: Result<Int, UpstreamError>?
        future.whenComplete { result in outcome = result.map(\.status).mapError { $0 as? UpstreamError ?? .shutdown("") } }
        return outcome
    }

    @Test("deadlines added out of order fire in deadline order; an exchange that ended in time is left alone")
    func order() throws {
        let loop = EmbeddedEventLoop()
        let deadlines = ExchangeDeadlines(eventLoop: loop, tolerance: .zero)
        let late = try Exchange(on: loop)
        let early = try Exchange(on: loop)
        let answered = try Exchange(on: loop)
        deadlines.add(loop.now + .milliseconds(1000), handler: late.handler, exchange: late.number)
        deadlines.add(loop.now + .milliseconds(200), handler: early.handler, exchange: early.number)
        deadlines.add(loop.now + .milliseconds(100), handler: answered.handler, exchange: answered.number)
        try answered.answer()
        #expect(Self.outcome(answered.result) == .success(200))

        loop.advanceTime(by: .milliseconds(199))
        #expect(Self.outcome(early.result) == nil)
        loop.advanceTime(by: .milliseconds(1))
        #expect(Self.outcome(early.result) == .failure(.timeout("")))
        #expect(!early.channel.isActive)
        #expect(Self.outcome(late.result) == nil)
        // The answered exchange's connection went back to idle and stays open past its old deadline.
        #expect(answered.channel.isActive)
        #expect(answered.handler.isReady)

        loop.advanceTime(by: .milliseconds(800))
        #expect(Self.outcome(late.result) == .failure(.timeout("")))
    }

    @Test("deadlines within the tolerance end together, never before their own deadline")
    func tolerance() throws {
        let loop = EmbeddedEventLoop()
        let deadlines = ExchangeDeadlines(eventLoop: loop, tolerance: .milliseconds(10))
        let first = try Exchange(on: loop)
        let second = try Exchange(on: loop)
        let later = try Exchange(on: loop)
        deadlines.add(loop.now + .milliseconds(100), handler: first.handler, exchange: first.number)
        deadlines.add(loop.now + .milliseconds(105), handler: second.handler, exchange: second.number)
        deadlines.add(loop.now + .milliseconds(150), handler: later.handler, exchange: later.number)
        loop.advanceTime(by: .milliseconds(109))
        #expect(Self.outcome(first.result) == nil)
        #expect(Self.outcome(second.result) == nil)
        loop.advanceTime(by: .milliseconds(1))
        #expect(Self.outcome(first.result) == .failure(.timeout("")))
        #expect(Self.outcome(second.result) == .failure(.timeout("")))
        #expect(Self.outcome(later.result) == nil)
        loop.advanceTime(by: .milliseconds(49))
        #expect(Self.outcome(later.result) == nil)
        loop.advanceTime(by: .milliseconds(11))
        #expect(Self.outcome(later.result) == .failure(.timeout("")))
    }

    @Test("the deadline of an earlier exchange does not end the next one on the same connection")
    func reusedConnection() throws {
        let loop = EmbeddedEventLoop()
        let deadlines = ExchangeDeadlines(eventLoop: loop, tolerance: .zero)
        let first = try Exchange(on: loop)
        deadlines.add(loop.now + .milliseconds(100), handler: first.handler, exchange: first.number)
        try first.answer()
        let promise = loop.makePromise(of: UpstreamResponse.self)
        let second = try #require(first.handler.send(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"), waiter: .promise(promise)))
        deadlines.add(loop.now + .milliseconds(500), handler: first.handler, exchange: second)
        loop.advanceTime(by: .milliseconds(100))
        #expect(Self.outcome(promise.futureResult) == nil)
        #expect(first.channel.isActive)
        loop.advanceTime(by: .milliseconds(400))
        #expect(Self.outcome(promise.futureResult) == .failure(.timeout("")))
    }
}
