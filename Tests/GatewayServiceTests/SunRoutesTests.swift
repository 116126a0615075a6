import CityscapeKit
import CityscapeTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOFoundationCompat
import Synchronization
import Testing
import UpstreamKit

@testable import GatewayService

/// An upstream scripted per URL prefix, counting calls.
final class ScriptedUpstream: UpstreamClient {
    let script: @Sendable (String) -> Result<UpstreamResponse, UpstreamError>
    let calls = Mutex<[String]>([])

    init(_ script: @escaping @Sendable (String) -> Result<UpstreamResponse, UpstreamError>) {
        self.script = script
    }

    func get(_ url: String, headers: [(name: String, value: String)], timeout: Duration) async throws(UpstreamError) -> UpstreamResponse {
        calls.withLock { $0.append(url) }
        return try script(url).get()
    }
}

/// Admits every request at once with the scripted client.
struct DirectAccess: UpstreamAccess {
    let client: ScriptedUpstream

    func withClient<T: Sendable>(
        clientIsConnected: @Sendable () -> Bool,
        _ body: (_ client: any UpstreamClient, _ queueWait: Duration?) async throws -> T
    ) async throws -> T {
        try await body(client, nil)
    }
}

@Suite("Gateway routes with a scripted upstream")
struct SunRoutesTests {
    static let location = #"{"admin1":"Oregon","country":"US","latitude":45.5496,"longitude":-122.6743,"place":"Portland","postal_code":"97227"}"#
    static let sun =
        #"{"results":{"sunrise":"2026-06-21T12:22:31+00:00","sunset":"2026-06-22T04:03:09+00:00","solar_noon":"2026-06-21T20:12:50+00:00","day_length":56438,"civil_twilight_begin":"2026-06-21T11:43:40+00:00","civil_twilight_end":"2026-06-22T04:42:00+00:00","nautical_twilight_begin":"2026-06-21T10:51:00+00:00","nautical_twilight_end":"2026-06-22T05:34:40+00:00","astronomical_twilight_begin":null,"astronomical_twilight_end":null},"status":"OK","tzid":"UTC"}"#

    static func ok(_ body: String) -> Result<UpstreamResponse, UpstreamError> {
        .success(UpstreamResponse(status: 200, body: Array(body.utf8)))
    }

    static func app(_ upstream: ScriptedUpstream, configuration: GatewayConfiguration = GatewayConfiguration()) -> some ApplicationProtocol {
        let metrics = ServiceMetrics()
        let router = buildRouter(
            configuration: configuration,
            access: DirectAccess(client: upstream),
            metrics: metrics,
            gatewayMetrics: GatewayMetrics(factory: metrics.factory),
            clock: { Date(timeIntervalSince1970: 1_782_000_000) }
        )
        return ServiceApplication.make(router: router, configuration: configuration.server, logger: LogRecorder().logger())
    }

    @Test("an answer from a location service without zones is in UTC; the sun is asked for the coordinates and the date")
    func merge() async throws {
        let upstream = ScriptedUpstream { url in url.contains("/api/location/") ? Self.ok(Self.location) : Self.ok(Self.sun) }
        try await Self.app(upstream).test(.router) { client in
            try await client.execute(uri: "/api/sun/97227/us", method: .get) { response in
                #expect(response.status == .ok)
                let body = String(buffer: response.body)
                #expect(
                    body.hasPrefix(
                        #"{"astronomical_twilight_begin":null,"astronomical_twilight_end":null,"civil_twilight_begin":"2026-06-21T11:43:40+00:00""#
                    )
                )
                #expect(body.contains(#""date":"2026-06-21","day_length":56438"#))
                #expect(body.contains(#""place":"Portland","postal_code":"97227""#))
                #expect(body.hasSuffix(#""sunset":"2026-06-22T04:03:09+00:00","timezone":"UTC"}"#))
                #expect(response.headers[.serverTiming]?.contains("location;dur=") == true)
            }
        }
        let calls = upstream.calls.withLock { $0 }
        #expect(
            calls == [
                "http://127.0.0.1:8001/api/location/97227/US", "http://127.0.0.1:8002/json?lat=45.549600&lng=-122.674300&date=2026-06-21&formatted=0",
            ]
        )
    }

    static let portland =
        #"{"admin1":"Oregon","country":"US","latitude":45.5496,"longitude":-122.6743,"place":"Portland","postal_code":"97227","timezone":"America/Los_Angeles"}"#
    static let apia =
        #"{"admin1":"","country":"WS","latitude":-13.8,"longitude":-172.1333,"place":"Independent State of Samoa","postal_code":"AS 96799","timezone":"Pacific/Apia"}"#

    /// The sun URLs a request for `uri` made, with the place answered by `location`.
    static func sunCalls(_ uri: String, location: String = portland, configuration: GatewayConfiguration = GatewayConfiguration()) async throws
        -> (status: Int, body: String, calls: [String])
    {
        let upstream = ScriptedUpstream { url in url.contains("/api/location/") ? Self.ok(location) : Self.ok(Self.sun) }
        let result = try await Self.app(upstream, configuration: configuration).test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in
                (status: Int(response.status.code), body: String(buffer: response.body))
            }
        }
        return (result.status, result.body, upstream.calls.withLock { $0 }.filter { $0.contains("/json?") })
    }

    @Test("by default the sun is asked for the place's zone and the answer names it")
    func placeZone() async throws {
        let (status, body, calls) = try await Self.sunCalls("/api/sun/97227/US?date=2026-06-21")
        #expect(status == 200)
        #expect(body.contains(#""date":"2026-06-21""#))
        #expect(body.hasSuffix(#","timezone":"America/Los_Angeles"}"#))
        #expect(calls == ["http://127.0.0.1:8002/json?lat=45.549600&lng=-122.674300&date=2026-06-21&formatted=0&tzid=America/Los_Angeles"])
    }

    @Test("without a date, today is the day on the place's clock")
    func todayAtThePlace() async throws {
        // The clock is 2026-06-21T00:40Z: still the 20th in Portland, already the 21st in UTC.
        let local = try await Self.sunCalls("/api/sun/97227/US")
        #expect(local.body.contains(#""date":"2026-06-20""#))
        #expect(local.calls.first?.contains("&date=2026-06-20&") == true)
        let utc = try await Self.sunCalls("/api/sun/97227/US?tz=utc")
        #expect(utc.body.contains(#""date":"2026-06-21""#))
    }

    @Test("tz=utc asks exactly what the gateway asked before zones; another tz is passed on, escaped")
    func requestedZone() async throws {
        let utc = try await Self.sunCalls("/api/sun/97227/US?date=2026-06-21&tz=UTC")
        #expect(utc.status == 200)
        #expect(utc.body.hasSuffix(#","timezone":"UTC"}"#))
        #expect(utc.calls == ["http://127.0.0.1:8002/json?lat=45.549600&lng=-122.674300&date=2026-06-21&formatted=0"])
        let tokyo = try await Self.sunCalls("/api/sun/97227/US?date=2026-06-21&tz=Asia/Tokyo")
        #expect(tokyo.body.hasSuffix(#","timezone":"Asia/Tokyo"}"#))
        #expect(tokyo.calls.first?.hasSuffix("&tzid=Asia/Tokyo") == true)
        // A place whose zone has a `+` (FR 98799 Clipperton is Etc/GMT+7).
        let clipperton = Self.portland.replacingOccurrences(of: "America/Los_Angeles", with: "Etc/GMT+7")
        let fixed = try await Self.sunCalls("/api/sun/97227/US?date=2026-06-21", location: clipperton)
        #expect(fixed.body.hasSuffix(#","timezone":"Etc/GMT+7"}"#))
        #expect(fixed.calls.first?.hasSuffix("&tzid=Etc/GMT%2B7") == true)
    }

    @Test("where the clock runs a day ahead of the Sun, the previous solar date is asked for; a skipped day is a 400")
    func samoa() async throws {
        let after = try await Self.sunCalls("/api/sun/AS%2096799/WS?date=2011-12-31", location: Self.apia)
        #expect(after.body.contains(#""date":"2011-12-31""#))
        #expect(after.calls.first?.contains("&date=2011-12-30&formatted=0&tzid=Pacific/Apia") == true)
        let skipped = try await Self.sunCalls("/api/sun/AS%2096799/WS?date=2011-12-30", location: Self.apia)
        #expect(skipped.status == 400)
        #expect(skipped.body.contains(#""code":"invalid_date""#))
        #expect(skipped.body.contains("Pacific/Apia"))
        #expect(skipped.calls.isEmpty)
    }

    @Test("the cache keeps one sun answer per zone")
    func cacheKeyHasZone() async throws {
        var configuration = GatewayConfiguration()
        configuration.cacheTTL = .seconds(60)
        let upstream = ScriptedUpstream { url in url.contains("/api/location/") ? Self.ok(Self.portland) : Self.ok(Self.sun) }
        try await Self.app(upstream, configuration: configuration).test(.router) { client in
            for uri in ["?date=2026-06-21", "?date=2026-06-21&tz=utc", "?date=2026-06-21", "?date=2026-06-21&tz=America/Los_Angeles"] {
                try await client.execute(uri: "/api/sun/97227/US\(uri)", method: .get) { response in
                    #expect(response.status == .ok, "\(uri)")
                }
            }
        }
        let sunCalls = upstream.calls.withLock { $0 }.filter { $0.contains("/json?") }
        #expect(sunCalls.count == 2)
    }

    @Test(
        "upstream failures map to the documented statuses and codes",
        arguments: [
            ("location", Result<UpstreamResponse, UpstreamError>.success(UpstreamResponse(status: 404, body: [])), 404, "postal_code_not_found"),
            (
                "location", .success(UpstreamResponse(status: 400, body: Array(#"{"error":{"code":"invalid_country","message":"m"}}"#.utf8))), 400,
                "invalid_country"
            ),
            ("location", .success(UpstreamResponse(status: 500, body: [])), 502, "bad_upstream_response"),
            ("location", .success(UpstreamResponse(status: 200, body: Array("not json".utf8))), 502, "bad_upstream_response"),
            ("location", .failure(.connectionFailed("refused")), 502, "location_unavailable"),
            ("location", .failure(.connectionReset("reset")), 502, "location_unavailable"),
            ("location", .failure(.timeout("slow")), 504, "upstream_timeout"),
            ("location", .failure(.outOfSockets("socket: EMFILE")), 503, "overloaded"),
            ("sun", .failure(.outOfSockets("socket: EMFILE")), 503, "overloaded"),
            ("sun", .success(UpstreamResponse(status: 400, body: Array(#"{"status":"INVALID_DATE"}"#.utf8))), 502, "bad_upstream_response"),
            (
                "sun", .success(UpstreamResponse(status: 200, body: Array(#"{"results":{},"status":"INVALID_REQUEST"}"#.utf8))), 502,
                "bad_upstream_response"
            ),
            ("sun", .success(UpstreamResponse(status: 503, body: [])), 502, "bad_upstream_response"),
            ("sun", .failure(.tls("untrusted")), 502, "sun_unavailable"),
            ("sun", .failure(.timeout("slow")), 504, "upstream_timeout"),
        ]
    )
    func failures(failing: String, outcome: Result<UpstreamResponse, UpstreamError>, status: Int, code: String) async throws {
        let upstream = ScriptedUpstream { url in
            let isLocation = url.contains("/api/location/")
            if isLocation == (failing == "location") { return outcome }
            return isLocation ? Self.ok(Self.location) : Self.ok(Self.sun)
        }
        try await Self.app(upstream).test(.router) { client in
            try await client.execute(uri: "/api/sun/97227/US?date=2026-06-21", method: .get) { response in
                #expect(Int(response.status.code) == status)
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect((body?["error"] as? [String: Any])?["code"] as? String == code)
                #expect(response.headers[.serverTiming]?.contains("total;dur=") == true)
            }
        }
    }

    @Test("bad input never reaches an upstream")
    func badInput() async throws {
        let upstream = ScriptedUpstream { _ in Self.ok(Self.location) }
        try await Self.app(upstream).test(.router) { client in
            for uri in [
                "/api/sun/97227/USA", "/api/sun/97%ZZ/US", "/api/sun/97227/US?date=2026-02-30", "/api/sun/97227/US?tz=Mars/Olympus_Mons",
                "/api/sun/97227/US?date=2026-06-21&tz=..%2F..%2Fetc%2Fpasswd",
            ] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(response.headers[.contentType] == "application/json; charset=utf-8", "\(uri)")
                    if uri.contains("tz=") {
                        #expect(String(buffer: response.body).contains(#""code":"invalid_timezone""#), "\(uri)")
                    }
                }
            }
        }
        #expect(upstream.calls.withLock { $0 }.isEmpty)
    }

    @Test(
        "the query is read as Hummingbird reads it: the first of a repeated name, unknown names ignored, values percent-decoded, names not",
        arguments: [
            ("?date=2026-06-21&date=2026-06-22", "2026-06-21", "America/Los_Angeles"),
            ("?date=&date=2026-06-21", "2026-06-20", "America/Los_Angeles"),
            ("?tz=utc&tz=Asia/Tokyo&date=2026-06-21", "2026-06-21", "UTC"),
            ("?foo=1&date=2026-06-21&bar&=x", "2026-06-21", "America/Los_Angeles"),
            ("?&&date=2026-06-21&", "2026-06-21", "America/Los_Angeles"),
            ("?date=2026%2D06%2d21", "2026-06-21", "America/Los_Angeles"),
            ("?date=2026-06-21&tz=Europe%2FParis", "2026-06-21", "Europe/Paris"),
            ("?date=2026-06-21&tz=Etc%2FGMT%2B7", "2026-06-21", "Etc/GMT+7"),
            ("?date=2026-06-21&tz=Etc/GMT+7", "2026-06-21", "Etc/GMT+7"),
            ("?d%61te=2026-06-22", "2026-06-20", "America/Los_Angeles"),
            ("?DATE=2026-06-22&Tz=utc", "2026-06-20", "America/Los_Angeles"),
            ("?date", "2026-06-20", "America/Los_Angeles"),
            ("?date=", "2026-06-20", "America/Los_Angeles"),
            ("?", "2026-06-20", "America/Los_Angeles"),
            ("?date=2026-06-21#tz=utc", "2026-06-21", "America/Los_Angeles"),
        ]
    )
    func queryReading(query: String, date: String, zone: String) async throws {
        let (status, body, _) = try await Self.sunCalls("/api/sun/97227/US\(query)")
        #expect(status == 200)
        #expect(body.contains(#""date":"\#(date)""#))
        #expect(body.hasSuffix(#","timezone":"\#(zone)"}"#))
    }

    @Test(
        "a bad value in the query is a 400 naming it, a plus sign stays a plus and a broken escape is kept as written",
        arguments: [
            ("?date=2026-06-21%", "invalid_date", "date '2026-06-21%'"),
            ("?date=2026-06-2%31x", "invalid_date", "date '2026-06-21x'"),
            ("?date=2026-06-21=x", "invalid_date", "date '2026-06-21=x'"),
            ("?date=2026-06-21?tz=utc", "invalid_date", "date '2026-06-21?tz=utc'"),
            ("?date=+2026-06-21", "invalid_date", "date '+2026-06-21'"),
            ("?date=2026-06-21%20", "invalid_date", "date '2026-06-21 '"),
            ("?date=bad&date=2026-06-21", "invalid_date", "date 'bad'"),
            ("?tz=%ZZ", "invalid_timezone", "tz '%ZZ'"),
            ("?tz=Europe/Paris+", "invalid_timezone", "tz 'Europe/Paris+'"),
            ("?tz=Europe%2FParis%2", "invalid_timezone", "tz 'Europe%2FParis%2'"),
            ("?tz=%C3%A9t%C3%A9", "invalid_timezone", "tz 't'"),
        ]
    )
    func badQueryValue(query: String, code: String, echoed: String) async throws {
        let (status, body, calls) = try await Self.sunCalls("/api/sun/97227/US\(query)")
        #expect(status == 400)
        #expect(body.contains(#""code":"\#(code)""#))
        #expect(body.contains(echoed))
        #expect(calls.isEmpty)
    }
}
