import CityscapeKit
import CityscapeTestSupport
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing

/// `RouterServer` on a real socket: what it adds around the router (request assembly, pipelining, HEAD,
/// `Date`, errors that escape the router, graceful shutdown, the request id and access line of the answers it
/// makes itself). The connection guard's answers are checked for their JSON by the contract and end-to-end
/// tests against the binaries, and here for their request id and access line.
@Suite("Router server: HTTP/1.1 on a real socket")
struct RouterServerTests {
    struct Boom: Error {}

    /// A router without the standard middleware, so what the server itself does shows.
    static func router() -> Router<CityscapeRequestContext> {
        let router = Router(context: CityscapeRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.get("/echo/:word") { _, context in context.parameters.get("word") ?? "" }
        router.post("/length") { request, _ in
            String(try await request.body.collect(upTo: .max).readableBytes)
        }
        router.get("/slow") { _, _ -> String in
            RouterServerTests.slowStarted.continuation.yield()
            var release = RouterServerTests.slowReleased.stream.makeAsyncIterator()
            _ = await release.next()
            return "done"
        }
        router.get("/boom") { _, _ -> String in throw Boom() }
        // Ignores cancellation, like an upstream call that runs to its own timeout. It logs the request id it was
        // given, so a test can compare it with the id of the server's answer.
        router.get("/stubborn") { request, context -> String in
            context.logger.info("stubborn got X-Request-ID \(request.headers[.xRequestID] ?? "none")")
            await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + 20) { continuation.resume() }
            }
            return "late"
        }
        return router
    }

    /// Told each time `/slow` starts, so a test can act while that request is surely in flight, however busy the machine.
    static let slowStarted = AsyncStream.makeStream(of: Void.self)
    /// `/slow` answers once the test yields here, so the test decides what the server has done before the answer.
    static let slowReleased = AsyncStream.makeStream(of: Void.self)

    /// Runs a server on 127.0.0.1:0 for `body`, which gets its port and its service group; shuts it down after.
    /// - Parameter recorder: gets the server's log lines.
    static func withServer<T: Sendable>(
        recorder: LogRecorder = LogRecorder(),
        connections: ConnectionPolicy = ConnectionPolicy(),
        _ body: @Sendable (Int, ServiceGroup) async throws -> T
    ) async throws -> T {
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let logger = recorder.logger()
        let server = RouterServer(
            responder: router().buildResponder(),
            configuration: ListenerConfiguration(host: "127.0.0.1", port: 0, backlog: 64, connections: connections),
            logger: logger
        ) { channel in
            listening.yield(channel.localAddress?.port ?? 0)
        }
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            do {
                let result = try await body(port, group)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The access lines `recorder` holds for `request` (`GET /path`) answered `status`, as `AccessLogMiddleware`
    /// writes them (`RecordingLogHandler` renders `level message key=value ...`).
    static func accessLines(_ recorder: LogRecorder, _ request: String, _ status: Int) -> [String] {
        recorder.recorded.filter { line in
            line.hasPrefix("info \(request) \(status) ") && line.contains("ms ") && line.contains("status=\(status)")
        }
    }

    /// Whether `id` is one the server generated: 32 lowercase hex digits.
    static func isGenerated(_ id: String?) -> Bool {
        id?.count == 32 && id?.allSatisfy { $0.isHexDigit && !$0.isUppercase } == true
    }

    @Test("pipelined requests are answered in order, one answer each, and Connection: close ends the connection")
    func pipelined() async throws {
        let answer = try await Self.withServer { port, _ in
            try await RawAnswer.exchange(
                port: port,
                Self.bytes(
                    "GET /echo/first HTTP/1.1\r\nHost: h\r\n\r\nGET /echo/second HTTP/1.1\r\nHost: h\r\n\r\n"
                        + "GET /echo/third HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                )
            )
        }
        #expect(answer.status == 200)
        #expect(answer.closedByServer)
        let rest = String(decoding: answer.body, as: UTF8.self)
        let second = try #require(rest.range(of: "\r\n\r\nsecond"))
        let third = try #require(rest.range(of: "\r\n\r\nthird"))
        #expect(rest.hasPrefix("first"))
        #expect(second.upperBound < third.lowerBound)
        #expect(rest.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
    }

    @Test(
        "a request that ends its connection in any spelling, or an HTTP/1.0 one without keep-alive, gets Connection: close and the server closes",
        arguments: [
            "GET /echo/a HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n",
            "GET /echo/a HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n",
            "GET /echo/a HTTP/1.0\r\nHost: h\r\n\r\n",
        ]
    )
    func closingRequests(request: String) async throws {
        let answer = try await Self.withServer { port, _ in
            try await RawAnswer.exchange(port: port, Self.bytes(request))
        }
        #expect(answer.status == 200)
        #expect(answer.headers["Connection"] == ["close"])
        #expect(answer.closedByServer)
    }

    @Test("an HTTP/1.0 request that asks for keep-alive keeps its connection")
    func http10KeepAlive() async throws {
        let answer = try await Self.withServer { port, _ in
            let request = "GET /echo/a HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\n\r\n"
            return try await RawAnswer.exchange(port: port, Self.bytes(request), timeoutSeconds: 1)
        }
        #expect(answer.status == 200)
        #expect(!answer.closedByServer)
    }

    @Test("HEAD answers with the GET's Content-Length and no body bytes")
    func head() async throws {
        let answer = try await Self.withServer { port, _ in
            try await RawAnswer.exchange(port: port, Self.bytes("HEAD /echo/hello HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
        }
        #expect(answer.status == 200)
        #expect(answer.headers["Content-Length"] == ["5"])
        #expect(answer.body.isEmpty)
    }

    @Test("every answer carries a Date header")
    func date() async throws {
        let answer = try await Self.withServer { port, _ in
            try await RawAnswer.exchange(port: port, Self.bytes("GET /echo/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
        }
        let date = try #require(answer.headers["Date"].first)
        #expect(date.hasSuffix(" GMT") && date.count == 29, "\(date)")
    }

    @Test("a request body reaches the route whole; one declared over the limit gets 413, its id and access line, and the connection closes")
    func bodies() async throws {
        let recorder = LogRecorder()
        let (small, large) = try await Self.withServer(recorder: recorder) { port, _ in
            let body = String(repeating: "b", count: 3000)
            let small = try await RawAnswer.exchange(
                port: port,
                Self.bytes("POST /length HTTP/1.1\r\nHost: h\r\nContent-Length: 3000\r\nConnection: close\r\n\r\n\(body)")
            )
            let large = try await RawAnswer.exchange(
                port: port,
                Self.bytes("POST /length HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000000\r\nX-Request-ID: big-1\r\n\r\nabc")
            )
            return (small, large)
        }
        #expect(small.status == 200)
        #expect(String(decoding: small.body, as: UTF8.self) == "3000")
        #expect(large.status == 413)
        #expect(String(decoding: large.body, as: UTF8.self).contains(#""code":"body_too_large""#))
        #expect(large.closedByServer)
        #expect(large.headers["X-Request-ID"] == ["big-1"])
        #expect(large.headers["Date"].count == 1)
        let lines = Self.accessLines(recorder, "POST /length", 413)
        #expect(lines.count == 1)
        #expect(lines.first?.contains("hb.request.id=big-1") == true)
    }

    @Test("an error thrown past the router is an empty 500 with a request id and an access line, and the connection serves on")
    func thrownError() async throws {
        let recorder = LogRecorder()
        let answer = try await Self.withServer(recorder: recorder) { port, _ in
            try await RawAnswer.exchange(
                port: port,
                Self.bytes("GET /boom HTTP/1.1\r\nHost: h\r\n\r\nGET /echo/after HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            )
        }
        #expect(answer.status == 500)
        #expect(answer.headers["Content-Length"] == ["0"])
        #expect(String(decoding: answer.body, as: UTF8.self).hasSuffix("\r\n\r\nafter"))
        let id = answer.headers["X-Request-ID"].first
        #expect(Self.isGenerated(id))
        let lines = Self.accessLines(recorder, "GET /boom", 500)
        #expect(lines.count == 1)
        #expect(lines.first?.contains("hb.request.id=\(id ?? "?")") == true)
        // The router's own answer (this router has no access-log middleware) gets no line from the server.
        #expect(Self.accessLines(recorder, "GET /echo/after", 200).isEmpty)
    }

    @Test(
        "a request still running when the drain ends, even one that ignores cancellation, is answered 503 shutting_down, with the request's id and an access line",
        arguments: ["drain-1", nil, "not valid"]
    )
    func drainCutOff(clientID: String?) async throws {
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let recorder = LogRecorder()
        let logger = recorder.logger()
        let server = RouterServer(
            responder: Self.router().buildResponder(),
            configuration: ListenerConfiguration(host: "127.0.0.1", port: 0, backlog: 64, connections: ConnectionPolicy()),
            logger: logger
        ) { channel in
            listening.yield(channel.localAddress?.port ?? 0)
        }
        var configuration = ServiceGroupConfiguration(services: [server], logger: logger)
        configuration.maximumGracefulShutdownDuration = .milliseconds(200)
        let group = ServiceGroup(configuration: configuration)
        let started = ContinuousClock.now
        let answer = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let idField = clientID.map { "X-Request-ID: \($0)\r\n" } ?? ""
            async let stubborn = RawAnswer.exchange(port: port, Self.bytes("GET /stubborn HTTP/1.1\r\nHost: h\r\n\(idField)\r\n"))
            try await Task.sleep(for: .milliseconds(100))
            await group.triggerGracefulShutdown()
            let answer = try await stubborn
            try await tasks.waitForAll()
            return answer
        }
        #expect(answer.status == 503)
        #expect(String(decoding: answer.body, as: UTF8.self).contains(#""code":"shutting_down""#))
        #expect(answer.headers["Connection"] == ["close"])
        #expect(answer.closedByServer)
        // The drain and the cut-off, not the route's own wait, decided when the server returned.
        #expect(ContinuousClock.now - started < .seconds(10))
        // The id the route was given (the client's when valid, else the one the server generated), which the
        // router's `RequestIDMiddleware` would have taken too.
        let id = try #require(answer.headers["X-Request-ID"].first)
        #expect(clientID == "drain-1" ? id == "drain-1" : Self.isGenerated(id), "\(id)")
        #expect(recorder.recorded.contains { $0.hasPrefix("info stubborn got X-Request-ID \(id) ") })
        let lines = Self.accessLines(recorder, "GET /stubborn", 503)
        #expect(lines.count == 1)
        #expect(lines.first?.contains("hb.request.id=\(id)") == true)
    }

    @Test("the connection guard's answers to a request carry its id and get an access line; one to a head that never came gets neither")
    func guardAnswers() async throws {
        let recorder = LogRecorder()
        let overRecorder = LogRecorder()
        let (over, noHost, badChunk, badHead, timedOut) = try await Self.withServer(
            recorder: recorder,
            connections: ConnectionPolicy(headerTimeout: .milliseconds(300))
        ) { port, _ in
            let noHost = try await RawAnswer.exchange(port: port, Self.bytes("GET /echo/a HTTP/1.1\r\n\r\n"))
            let badChunk = try await RawAnswer.exchange(
                port: port,
                Self.bytes("POST /length HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX-Request-ID: chunk-1\r\n\r\nzz\r\n")
            )
            let badHead = try await RawAnswer.exchange(port: port, Self.bytes("GET /echo/a HTTP/1.1\r\nHost h\r\n\r\n"))
            let timedOut = try await RawAnswer.exchange(port: port, Self.bytes("GET /echo/a HTTP/1.1\r\nHost: h\r\n"))
            let over = try await Self.withServer(recorder: overRecorder, connections: ConnectionPolicy(maxConnections: 0)) { port, _ in
                try await RawAnswer.exchange(port: port, Self.bytes("GET /echo/a?x=1 HTTP/1.1\r\nHost: h\r\nX-Request-ID: over-1\r\n\r\n"))
            }
            return (over, noHost, badChunk, badHead, timedOut)
        }
        #expect(over.status == 503)
        #expect(over.headers["X-Request-ID"] == ["over-1"])
        #expect(over.headers["Date"].count == 1)
        let overLines = Self.accessLines(overRecorder, "GET /echo/a", 503)
        #expect(overLines.count == 1)
        #expect(overLines.first?.contains("hb.request.id=over-1") == true)

        #expect(noHost.status == 400)
        let generated = noHost.headers["X-Request-ID"].first
        #expect(Self.isGenerated(generated))
        #expect(Self.accessLines(recorder, "GET /echo/a", 400).filter { $0.contains("hb.request.id=\(generated ?? "?")") }.count == 1)

        #expect(badChunk.status == 400)
        #expect(String(decoding: badChunk.body, as: UTF8.self).contains(#""code":"bad_request""#))
        #expect(badChunk.headers["X-Request-ID"] == ["chunk-1"])
        #expect(Self.accessLines(recorder, "POST /length", 400).filter { $0.contains("hb.request.id=chunk-1") }.count == 1)

        // No request was read: no method, no path, no client id to name in a line.
        #expect(badHead.status == 400)
        #expect(String(decoding: badHead.body, as: UTF8.self).contains(#""code":"bad_request""#))
        #expect(timedOut.status == 408)
        for answer in [badHead, timedOut] {
            #expect(answer.headers["X-Request-ID"].isEmpty)
            #expect(answer.headers["Date"].count == 1)
            #expect(answer.closedByServer)
        }
        // The Host-less request's line, and no other.
        #expect(recorder.recorded.filter { $0.contains("GET /echo/a") }.count == 1)
    }

    @Test("graceful shutdown lets the request in flight finish, closes its connection after it, and stops accepting")
    func gracefulShutdown() async throws {
        let (answer, refused) = try await Self.withServer { port, group in
            async let slow = RawAnswer.exchange(port: port, Self.bytes("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"))
            var started = Self.slowStarted.stream.makeAsyncIterator()
            _ = await started.next()
            await group.triggerGracefulShutdown()
            // The listener closes in the same step that tells every open connection to quiesce; once connecting is
            // refused, the quiesce is queued on the slow request's event loop ahead of its answer.
            let deadline = ContinuousClock.now + .seconds(10)
            while LoopbackSocket.accepts(port: port) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let refused = !LoopbackSocket.accepts(port: port)
            Self.slowReleased.continuation.yield()
            let answer = try await slow
            return (answer, refused)
        }
        #expect(answer.status == 200)
        #expect(String(decoding: answer.body, as: UTF8.self) == "done")
        #expect(answer.headers["Connection"] == ["close"])
        #expect(answer.closedByServer)
        #expect(refused)
    }
}
