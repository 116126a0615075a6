import AsyncHTTPClient
import CityscapeTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The built binaries as users run them: real processes, real sockets on 127.0.0.1, real HTTP.
@Suite("Live services: location and sun binaries")
struct ServicesLiveTests {
    @Test("location answers lookups, errors, HEAD, health and metrics over real HTTP")
    func location() async throws {
        let service = try await ServiceProcess("cityscape-location")
        defer { Task { await service.stop() } }
        let found = try await LiveHTTP.request("\(service.baseURL)/api/location/97227/us")
        #expect(found.status == 200)
        #expect(found.headers["Content-Type"].first == "application/json; charset=utf-8")
        #expect(
            found.text
                == #"{"admin1":"Oregon","country":"US","latitude":45.5496,"longitude":-122.6743,"place":"Portland","postal_code":"97227","timezone":"America/Los_Angeles"}"#
        )
        let prefix = try await LiveHTTP.request("\(service.baseURL)/api/location/SW1A%201AA/GB")
        #expect(try prefix.json()["postal_code"] as? String == "SW1A")

        let missing = try await LiveHTTP.request("\(service.baseURL)/api/location/00000/US")
        #expect(missing.status == 404)
        #expect(missing.text.contains(#""code":"postal_code_not_found""#))
        let malformed = try await LiveHTTP.request("\(service.baseURL)/api/location/97227/USA")
        #expect(malformed.status == 400)
        #expect(malformed.text.contains(#""code":"invalid_country""#))
        let wrongMethod = try await LiveHTTP.request("\(service.baseURL)/api/location/97227/US", method: .DELETE)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["Allow"].first == "GET, HEAD")
        let head = try await LiveHTTP.request("\(service.baseURL)/api/location/97227/US", method: .HEAD)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)

        let health = try await LiveHTTP.request("\(service.baseURL)/healthz")
        #expect(health.status == 200)
        #expect(try health.json()["service"] as? String == "cityscape-location")
        let metrics = try await LiveHTTP.request("\(service.baseURL)/metrics")
        #expect(metrics.text.contains(#"http_requests_total{method="GET",route="/api/location/{postal_code}/{country}",status="200"} 2"#))
        #expect(metrics.text.contains(#"http_requests_total{method="GET",route="/api/location/{postal_code}/{country}",status="404"} 1"#))
        #expect(metrics.text.contains("process_resident_memory_bytes"))
        #expect(metrics.text.contains("process_open_fds"))
    }

    @Test("sun answers the API over real HTTP and echoes request ids into its access log")
    func sun() async throws {
        let service = try await ServiceProcess("cityscape-sun")
        defer { Task { await service.stop() } }
        let response = try await LiveHTTP.request(
            "\(service.baseURL)/json?lat=45.5496&lng=-122.6743&date=2026-06-21&formatted=0",
            headers: [("X-Request-ID", "live-sun-1")]
        )
        #expect(response.status == 200)
        #expect(response.headers["X-Request-ID"].first == "live-sun-1")
        let results = try #require(try response.json()["results"] as? [String: Any])
        #expect((results["sunrise"] as? String)?.hasPrefix("2026-06-21T12:") == true)
        #expect(results.count == 10)
        let invalid = try await LiveHTTP.request("\(service.baseURL)/json?lat=91&lng=0")
        #expect(invalid.status == 400)
        #expect(try invalid.json()["status"] as? String == "INVALID_REQUEST")
        // The access-log line carries the request id, method, path and status.
        try await eventually { service.output().contains("GET /json 200") && service.output().contains("live-sun-1") }
    }

    @Test("--latency slows API requests by at least its value; /healthz stays fast")
    func latency() async throws {
        // Long enough that a health check slower than it means it was delayed, not that the machine is busy.
        let service = try await ServiceProcess("cityscape-sun", arguments: ["--latency", "2s"])
        defer { Task { await service.stop() } }
        let clock = ContinuousClock()
        let api = try await clock.measure { _ = try await LiveHTTP.request("\(service.baseURL)/json?lat=0&lng=0") }
        let health = try await clock.measure { _ = try await LiveHTTP.request("\(service.baseURL)/healthz") }
        #expect(api >= .seconds(2))
        #expect(health < .seconds(2))
    }

    @Test("CITYSCAPE_LATENCY works like --latency")
    func latencyFromEnvironment() async throws {
        let service = try await ServiceProcess("cityscape-sun", environment: ["CITYSCAPE_LATENCY": "300ms"])
        defer { Task { await service.stop() } }
        let elapsed = try await ContinuousClock().measure { _ = try await LiveHTTP.request("\(service.baseURL)/json?lat=0&lng=0") }
        #expect(elapsed >= .milliseconds(300))
    }

    @Test("the binaries run Swift concurrency on NIO's event loops and serve many waiting requests at once")
    func eventLoopExecutor() async throws {
        let service = try await ServiceProcess("cityscape-sun", arguments: ["--latency", "300ms"])
        defer { Task { await service.stop() } }
        let url = "\(service.baseURL)/json?lat=10&lng=10"
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 { group.addTask { try await LiveHTTP.request(url).status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 50))
        // `EventLoopExecutor.install()` failing (a runtime without the hook, another hook first) is logged, not fatal.
        #expect(!service.output().contains("could not become the global executor"))
    }

    @Test("SIGTERM drains: requests in flight complete, then the process exits 0")
    func gracefulShutdown() async throws {
        let service = try await ServiceProcess("cityscape-sun", arguments: ["--latency", "1s"])
        let url = "\(service.baseURL)/json?lat=10&lng=10"
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await LiveHTTP.request(url).status } }
            // Let the requests reach the server before the signal.
            try await eventually { try await inFlight(service) >= 4 }
            service.send(SIGTERM)
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == [200, 200, 200, 200])
        #expect(await service.waitForExit() == 0)
    }

    @Test(
        "--drain-timeout bounds the shutdown: a request slower than it answers 503 shutting_down, then the process exits 0",
        arguments: [("cityscape-sun", "/json?lat=10&lng=10"), ("cityscape-location", "/api/location/97227/US")]
    )
    func drainTimeout(binary: String, path: String) async throws {
        let service = try await ServiceProcess(binary, arguments: ["--latency", "60s", "--drain-timeout", "500ms"])
        async let slow = LiveHTTP.request(service.baseURL + path, timeout: .seconds(90))
        try await eventually { try await inFlight(service) >= 1 }
        service.send(SIGTERM)
        let signalled = ContinuousClock.now
        let answer = try await slow
        #expect(answer.status == 503)
        #expect(answer.headers["Connection"].first?.lowercased() == "close")
        let error = try #require(try answer.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "shutting_down")
        #expect(answer.headers["X-Request-ID"].first?.isEmpty == false)
        #expect(await service.waitForExit(timeout: .seconds(30)) == 0)
        // The drain and the grace for the cancelled answers, not the request's 60 s, decided when the process stopped.
        #expect(ContinuousClock.now - signalled < .seconds(15))
    }

    @Test("--max-connections bounds a service's client connections: the one over it gets 503 too_many_connections at once")
    func connectionLimit() async throws {
        let service = try await ServiceProcess("cityscape-sun", arguments: ["--max-connections", "2", "--latency", "2s"])
        defer { Task { await service.stop() } }
        let request = Array("GET /json?lat=10&lng=10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n".utf8)
        // Three clients at once, each held 2 s by the latency: whichever is accepted third is over the limit.
        let answers = try await withThrowingTaskGroup(of: RawAnswer.self) { group in
            for _ in 0..<3 { group.addTask { try await RawAnswer.exchange(port: service.port, request) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.map(\.status).sorted() == [200, 200, 503])
        let over = try #require(answers.first { $0.status == 503 })
        #expect(String(decoding: over.body, as: UTF8.self).contains(#""code":"too_many_connections""#))
        #expect(over.headers["Retry-After"].first == "1")
        #expect(over.closedByServer)
    }
}

/// How many API requests the service reports in flight, read from its own `/metrics` (minus the scrape itself).
func inFlight(_ service: ServiceProcess) async throws -> Int {
    Int(try await LiveHTTP.metric("http_requests_in_flight", at: "\(service.baseURL)/metrics") ?? 0) - 1
}
