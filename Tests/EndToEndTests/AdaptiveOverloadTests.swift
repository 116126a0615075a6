import CityscapeTestSupport
import Foundation
import NIOHTTP1
import Testing

/// `--max-in-flight auto` and `--queue-limit auto` on real processes: beyond the limit a request is refused
/// at once with 503 `overloaded`, the admitted ones all complete, and every request gets exactly one answer.
// Serialized like the other live gateway suites: they start several processes each and wait on upstream latency.
@Suite("Live gateway with an adaptive limit", .serialized)
struct AdaptiveOverloadTests {
    @Test(
        "over an auto limit, the extra requests get 503 before any admitted one completes; each request is answered once",
        arguments: [
            // async: the auto limit starts at its ceiling when the ceiling is small; 4 requests fill it.
            ("async", ["--max-in-flight", "auto", "--max-in-flight-ceiling", "4"], "gateway_in_flight_limit", "max_in_flight", 4),
            // blocking: one worker, the auto queue limit starts at one waiting request per worker.
            ("blocking", ["--workers", "1", "--queue-limit", "auto"], "gateway_queue_limit", "queue_limit", 1),
        ]
    )
    func overloadIsAnsweredAtOnce(mode: String, arguments: [String], limitMetric: String, healthKey: String, limit: Int) async throws {
        let stack = try await GatewayStack.start(mode: mode, gatewayArguments: arguments, locationLatency: "1s")
        defer { Task { await stack.stop() } }
        let health = try await LiveHTTP.request("\(stack.gateway.baseURL)/healthz").json()
        #expect((health["details"] as? [String: Any])?[healthKey] as? Int == limit)
        #expect(try await LiveHTTP.metric(limitMetric, at: "\(stack.gateway.baseURL)/metrics") == Double(limit))

        // Fill the gateway: the running requests (and, blocking, the one allowed to wait) hold for the location's second.
        let admitted = mode == "async" ? limit : 1 + limit
        let start = ContinuousClock.now
        async let first = concurrently(ids: 0..<admitted) { id in try await timed(stack, id, since: start) }
        try await eventually {
            try await LiveHTTP.metric("gateway_requests_in_flight", at: "\(stack.gateway.baseURL)/metrics") == Double(admitted)
        }
        let extra = 12
        // One more on a keep-alive connection of its own: its 503 says `Connection: close`, and the server closes.
        async let onKeepAlive = RawAnswer.exchange(
            port: stack.gateway.port,
            Array("GET /api/sun/97227/US HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: \(Self.requestID(-1))\r\n\r\n".utf8),
            timeoutSeconds: 10
        )
        let refused = try await concurrently(ids: admitted..<(admitted + extra)) { id in try await timed(stack, id, since: start) }
        let keepAliveRefusal = try await onKeepAlive
        let served = try await first
        #expect(keepAliveRefusal.status == 503)
        #expect(keepAliveRefusal.headers["Connection"] == ["close"])
        #expect(keepAliveRefusal.closedByServer, "the gateway kept a connection open after announcing its close")

        // Exactly one answer per request, carrying its own id.
        #expect(Set((served + refused).map(\.id)) == Set(0..<(admitted + extra)))
        for answer in served + refused { #expect(answer.echoedID == Self.requestID(answer.id)) }
        #expect(served.allSatisfy { $0.status == 200 }, "\(served.map(\.status))")
        #expect(refused.allSatisfy { $0.status == 503 }, "\(refused.map(\.status))")
        for answer in refused {
            #expect(answer.retryAfter == "1")
            #expect(answer.code == "overloaded")
        }
        // Refused at once: every 503 arrived before the first admitted request could finish its upstream second.
        let firstServed = try #require(served.map(\.elapsed).min())
        #expect(firstServed >= .seconds(1))
        #expect(refused.allSatisfy { $0.elapsed < firstServed })

        // Each admitted request reached the location service once; no refused one reached it.
        let locationLog = stack.location.output()
        for id in [-1] + Array(0..<(admitted + extra)) {
            let calls = locationLog.components(separatedBy: Self.requestID(id)).count - 1
            #expect(calls == (0..<admitted ~= id ? 1 : 0), "request \(id) reached the location service \(calls) times")
        }
        let metrics = try await LiveHTTP.request("\(stack.gateway.baseURL)/metrics").text
        #expect(metrics.contains("gateway_shed_requests_total \(extra + 1)"))
        // The capacity is free again once the admitted requests are done.
        #expect(try await stack.sun("97227", "US").status == 200)
    }

    /// One request's answer, with how long it took from the test's start.
    struct Answer: Sendable {
        let id: Int
        let status: Int
        let elapsed: Duration
        let echoedID: String?
        let retryAfter: String?
        let code: String?
    }

    static func requestID(_ id: Int) -> String { "adaptive-overload-\(id)-end" }

    func timed(_ stack: GatewayStack, _ id: Int, since start: ContinuousClock.Instant) async throws -> Answer {
        let response = try await stack.sun("97227", "US", headers: [("X-Request-ID", Self.requestID(id))])
        return Answer(
            id: id,
            status: response.status,
            elapsed: ContinuousClock.now - start,
            echoedID: response.headers["X-Request-ID"].first,
            retryAfter: response.headers["Retry-After"].first,
            code: response.status == 503 ? try errorCode(response) : nil
        )
    }

    func concurrently(ids: Range<Int>, _ request: @escaping @Sendable (Int) async throws -> Answer) async throws -> [Answer] {
        try await withThrowingTaskGroup(of: Answer.self) { group in
            for id in ids { group.addTask { try await request(id) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }
}
