import CityscapeTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// How the two modes behave under concurrency: blocking really blocks, both shed load with a 503.
// Serialized for the same reason as `GatewayLiveTests`, and because these tests measure time.
@Suite("Live gateway under concurrent load", .serialized)
struct GatewayLoadTests {
    @Test("blocking with 2 workers serialises 4 slow requests into two rounds; async runs them together")
    func blockingReallyBlocks() async throws {
        async let blocking = timeFourRequests(mode: "blocking", arguments: ["--workers", "2"])
        async let async = timeFourRequests(mode: "async", arguments: [])
        let (blockingElapsed, asyncElapsed) = try await (blocking, async)
        // Each request costs 2 × 500 ms of upstream latency: two rounds of 1 s blocking, one round async.
        #expect(blockingElapsed >= .seconds(2))
        #expect(asyncElapsed >= .seconds(1))
        // Ordering, not exact times (the machine may be busy): async overlaps the four, blocking cannot.
        #expect(asyncElapsed < blockingElapsed)
    }

    func timeFourRequests(mode: String, arguments: [String]) async throws -> Duration {
        let stack = try await GatewayStack.start(mode: mode, gatewayArguments: arguments, locationLatency: "500ms", sunLatency: "500ms")
        defer { Task { await stack.stop() } }
        let start = ContinuousClock.now
        let statuses = try await concurrently(4) { try await stack.sun("97227", "US").status }
        let elapsed = ContinuousClock.now - start
        #expect(statuses == [200, 200, 200, 200])
        return elapsed
    }

    @Test(
        "over capacity, requests are refused with 503 and Retry-After; none is lost",
        arguments: [
            ("blocking", ["--workers", "1", "--queue-limit", "1"], 2),
            ("async", ["--max-in-flight", "2"], 2),
        ]
    )
    func shedding(mode: String, arguments: [String], admitted: Int) async throws {
        // The admitted requests hold their places for the location latency; the others are sent only once the
        // gateway reports the first ones in flight (queued included), so a slow machine cannot reorder them.
        let stack = try await GatewayStack.start(mode: mode, gatewayArguments: arguments, locationLatency: "2s")
        defer { Task { await stack.stop() } }
        async let first = concurrently(admitted) { try await stack.sun("97227", "US") }
        try await eventually {
            try await LiveHTTP.metric("gateway_requests_in_flight", at: "\(stack.gateway.baseURL)/metrics") == Double(admitted)
        }
        let rest = try await concurrently(5 - admitted) { try await stack.sun("97227", "US") }
        let responses = try await first + rest
        #expect(responses.count == 5)
        let ok = responses.filter { $0.status == 200 }
        let shed = responses.filter { $0.status == 503 }
        #expect(ok.count == admitted)
        #expect(shed.count == 5 - admitted)
        for response in shed {
            #expect(response.headers["Retry-After"].first == "1")
            #expect(try errorCode(response) == "overloaded")
        }
        let metrics = try await LiveHTTP.request("\(stack.gateway.baseURL)/metrics").text
        #expect(metrics.contains("gateway_shed_requests_total \(5 - admitted)"))
        if mode == "blocking" {
            // The queued request waited for the first one and says so.
            let waits = ok.compactMap { $0.headers["Server-Timing"].first }.compactMap(queueMilliseconds)
            #expect(waits.contains { $0 >= 300 })
        }
    }

    @Test("blocking: a request whose client leaves while it waits in line is never executed")
    func abandonedInQueue() async throws {
        let stack = try await GatewayStack.start(
            mode: "blocking",
            gatewayArguments: ["--workers", "1"],
            locationLatency: "500ms",
            sunLatency: "500ms"
        )
        defer { Task { await stack.stop() } }
        async let first = stack.sun("97227", "US")
        // The first request holds the only worker once it reached the location service.
        try await eventually { try await inFlight(stack.location) >= 1 }
        // The second request asks for another code, waits behind the first for the only worker, and leaves.
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: stack.gateway.port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        try await client.executeThenClose { _, outbound in
            try await outbound.write(ByteBuffer(string: "GET /api/sun/10115/DE HTTP/1.1\r\nHost: gateway\r\n\r\n"))
            try await eventually { try await LiveHTTP.metric("gateway_queue_depth", at: "\(stack.gateway.baseURL)/metrics") == 1 }
        }
        #expect(try await first.status == 200)
        // The worker is free again only after the abandoned request left the line.
        #expect(try await stack.sun("97227", "US").status == 200)
        #expect(!stack.location.output().contains("/api/location/10115/DE"), "the abandoned request reached the location service")
        let metrics = try await LiveHTTP.request("\(stack.gateway.baseURL)/metrics").text
        #expect(metrics.contains("gateway_abandoned_requests_total 1"))
    }

    @Test("with the cache on, a repeat is a hit and concurrent misses make one upstream call", arguments: ["async", "blocking"])
    func cache(mode: String) async throws {
        let workers = mode == "blocking" ? ["--workers", "4"] : []
        let stack = try await GatewayStack.start(mode: mode, gatewayArguments: ["--cache-ttl", "1m"] + workers, locationLatency: "300ms")
        defer { Task { await stack.stop() } }
        let responses = try await concurrently(4) { try await stack.sun("97227", "US", query: "?date=2026-06-21") }
        #expect(responses.allSatisfy { $0.status == 200 })
        #expect(stack.locationCalls() == 1)
        #expect(stack.sunCalls() == 1)
        let repeated = try await stack.sun("97227", "US", query: "?date=2026-06-21")
        #expect(repeated.status == 200)
        #expect(repeated.headers["Server-Timing"].first?.contains("cache;desc=hit") == true)
        #expect(repeated.text == responses[0].text)
        // Another date needs a new sun answer but not a new location.
        _ = try await stack.sun("97227", "US", query: "?date=2026-12-21")
        #expect(stack.locationCalls() == 1)
        #expect(stack.sunCalls() == 2)
        let metrics = try await LiveHTTP.request("\(stack.gateway.baseURL)/metrics").text
        #expect(metrics.contains(#"gateway_cache_misses_total{upstream="location"} 1"#))
        #expect(metrics.contains(#"gateway_cache_hits_total{upstream="location"} 5"#))
    }
}

/// The `queue;dur=` value of a Server-Timing header, in milliseconds.
func queueMilliseconds(_ header: String) -> Double? {
    guard let range = header.range(of: #"queue;dur=[0-9.]+"#, options: .regularExpression) else { return nil }
    return Double(header[range].dropFirst("queue;dur=".count))
}
