import CityscapeTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The gateway binary against the real location and sun binaries, in both modes.
// Serialized: each case starts a location service that loads a million postal codes; dozens at once starve
// the timing-sensitive tests of the other suites on a 2-core machine.
@Suite("Live gateway: both modes against the real upstreams", .serialized)
struct GatewayLiveTests {
    static let modes = ["async", "blocking"]

    @Test("answers a postal code and date with place and sun times, forwarding the request id", arguments: modes)
    func happyPath(mode: String) async throws {
        let stack = try await GatewayStack.start(mode: mode)
        defer { Task { await stack.stop() } }
        let response = try await stack.sun("97227", "us", query: "?date=2026-06-21", headers: [("X-Request-ID", "gw-\(mode)-happy")])
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"].first == "application/json; charset=utf-8")
        let body = try response.json()
        #expect(body["postal_code"] as? String == "97227")
        #expect(body["country"] as? String == "US")
        #expect(body["place"] as? String == "Portland")
        #expect(body["latitude"] as? Double == 45.5496)
        #expect(body["longitude"] as? Double == -122.6743)
        #expect(body["date"] as? String == "2026-06-21")
        // In Portland's local time (PDT, UTC-7), on the day asked for.
        #expect(body["timezone"] as? String == "America/Los_Angeles")
        #expect((body["sunrise"] as? String)?.hasPrefix("2026-06-21T05:") == true)
        #expect((body["sunrise"] as? String)?.hasSuffix("-07:00") == true)
        #expect((body["sunset"] as? String)?.hasPrefix("2026-06-21T21:") == true)
        #expect((body["day_length"] as? Int).map { (55_000...57_000).contains($0) } == true)
        #expect(body.count == 17)
        for key in ["solar_noon", "civil_twilight_begin", "civil_twilight_end", "nautical_twilight_begin", "nautical_twilight_end"] {
            #expect(body[key] is String, "\(key) missing")
        }
        // The upstreams saw the client's request id.
        try await eventually { stack.location.output().contains("gw-\(mode)-happy") && stack.sun.output().contains("gw-\(mode)-happy") }
        let timing = try #require(response.headers["Server-Timing"].first)
        #expect(timing.contains("location;dur=") && timing.contains("sun;dur=") && timing.contains("total;dur="))
        #expect(timing.contains("queue;dur=") == (mode == "blocking"))
    }

    @Test("without a date, answers for today at the place; polar events are null", arguments: modes)
    func defaultDateAndPolar(mode: String) async throws {
        let stack = try await GatewayStack.start(mode: mode)
        defer { Task { await stack.stop() } }
        let today = try await stack.sun("SW1A%201AA", "GB")
        #expect(today.status == 200)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(identifier: "Europe/London")
        #expect(try today.json()["date"] as? String == formatter.string(from: Date()))
        #expect(try today.json()["timezone"] as? String == "Europe/London")
        #expect(try today.json()["postal_code"] as? String == "SW1A")
        // Tromsø at midsummer: the sun never sets.
        let polar = try await stack.sun("9008", "NO", query: "?date=2026-06-21")
        #expect(polar.status == 200)
        let body = try polar.json()
        #expect(body["sunrise"] is NSNull)
        #expect(body["day_length"] as? Int == 86_400)
    }

    @Test("an unknown postal code is a 404", arguments: modes)
    func unknownPostalCode(mode: String) async throws {
        let stack = try await GatewayStack.start(mode: mode)
        defer { Task { await stack.stop() } }
        let response = try await stack.sun("00000", "US")
        #expect(response.status == 404)
        #expect(try errorCode(response) == "postal_code_not_found")
        #expect(stack.sunCalls() == 0)
    }

    @Test("bad input is a 400 decided before any upstream call", arguments: modes)
    func badInput(mode: String) async throws {
        let stack = try await GatewayStack.start(mode: mode)
        defer { Task { await stack.stop() } }
        let cases: [(String, String, String, String)] = [
            ("97227", "USA", "", "invalid_country"),
            ("97227", "U1", "", "invalid_country"),
            ("972%2127", "US", "", "invalid_postal_code"),
            ("12345678901234567", "US", "", "invalid_postal_code"),
            ("97227", "US", "?date=2026-02-30", "invalid_date"),
            ("97227", "US", "?date=tomorrow", "invalid_date"),
            ("97227", "US", "?date=2026-6-1", "invalid_date"),
        ]
        for (postal, country, query, code) in cases {
            let response = try await stack.sun(postal, country, query: query)
            #expect(response.status == 400, "\(postal)/\(country)\(query)")
            #expect(try errorCode(response) == code, "\(postal)/\(country)\(query)")
        }
        let metrics = try await LiveHTTP.request("\(stack.gateway.baseURL)/metrics").text
        #expect(metrics.contains(#"gateway_errors_total{cause="bad_request"} 7"#))
        #expect(stack.locationCalls() == 0)
        #expect(stack.sunCalls() == 0)
    }

    @Test("a stopped sun service is a 502 naming it, at once", arguments: modes)
    func sunStopped(mode: String) async throws {
        let stack = try await GatewayStack.start(mode: mode)
        defer { Task { await stack.stop() } }
        await stack.sun.stop()
        let clock = ContinuousClock()
        var response: LiveResponse?
        let elapsed = try await clock.measure { response = try await stack.sun("97227", "US") }
        let answer = try #require(response)
        #expect(answer.status == 502)
        #expect(try errorCode(answer) == "sun_unavailable")
        #expect(answer.text.contains("sun service"))
        #expect(elapsed < .seconds(2))
        let metrics = try await LiveHTTP.request("\(stack.gateway.baseURL)/metrics").text
        #expect(metrics.contains(#"gateway_upstream_errors_total{upstream="sun",cause="connection_failed"} 1"#))
        #expect(metrics.contains(#"gateway_errors_total{cause="unavailable"} 1"#))
    }

    @Test("a sun service slower than --upstream-timeout is a 504 within the timeout", arguments: modes)
    func sunTooSlow(mode: String) async throws {
        let stack = try await GatewayStack.start(mode: mode, gatewayArguments: ["--upstream-timeout", "400ms"], sunLatency: "5s")
        defer { Task { await stack.stop() } }
        let clock = ContinuousClock()
        var response: LiveResponse?
        let elapsed = try await clock.measure { response = try await stack.sun("97227", "US") }
        let answer = try #require(response)
        #expect(answer.status == 504)
        #expect(try errorCode(answer) == "upstream_timeout")
        #expect(answer.text.contains("sun service"))
        #expect(elapsed >= .milliseconds(400) && elapsed < .seconds(3))
        #expect(answer.headers["Server-Timing"].first?.contains("sun;dur=") == true)
        let metrics = try await LiveHTTP.request("\(stack.gateway.baseURL)/metrics").text
        #expect(metrics.contains(#"gateway_upstream_errors_total{upstream="sun",cause="timeout"} 1"#))
    }

    @Test("an upstream that accepts and never answers is a 504, not a hang", arguments: modes)
    func silentUpstream(mode: String) async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let location = try await ServiceProcess("cityscape-location")
        defer { Task { await location.stop() } }
        let gateway = try await ServiceProcess(
            "cityscape-gateway",
            arguments: [
                "--mode", mode, "--location-url", location.baseURL, "--sun-url", "http://127.0.0.1:\(silent.port)", "--upstream-timeout", "500ms",
            ]
        )
        defer { Task { await gateway.stop() } }
        let response = try await LiveHTTP.request("\(gateway.baseURL)/api/sun/97227/US", timeout: .seconds(5))
        #expect(response.status == 504)
        #expect(try errorCode(response) == "upstream_timeout")
    }
}

/// The `error.code` of a Cityscape JSON error body.
func errorCode(_ response: LiveResponse) throws -> String? {
    (try response.json()["error"] as? [String: Any])?["code"] as? String
}
