import CityscapeKit
import CityscapeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOFoundationCompat
import Testing

@testable import SunService

@Suite("Sun API: the sunrise-sunset.org contract")
struct SunTimesRoutesTests {
    /// 2026-06-21T12:00:00Z, so `today` is a known date.
    static let fixedNow = Date(timeIntervalSince1970: 1_782_043_200)

    func app() -> some ApplicationProtocol {
        let configuration = ServerConfiguration()
        return ServiceApplication.make(
            router: buildRouter(configuration: configuration, clock: { Self.fixedNow }),
            configuration: configuration,
            logger: LogRecorder().logger()
        )
    }

    func get(_ query: String, _ check: @escaping @Sendable (TestResponse, String) throws -> Void) async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/json?\(query)", method: .get) { response in
                try check(response, String(buffer: response.body))
            }
        }
    }

    static let fieldOrder = [
        "sunrise", "sunset", "solar_noon", "day_length", "civil_twilight_begin", "civil_twilight_end", "nautical_twilight_begin",
        "nautical_twilight_end", "astronomical_twilight_begin", "astronomical_twilight_end",
    ]

    @Test("formatted=0: ISO 8601 UTC times in the documented field order, day_length in seconds, tzid UTC")
    func formattedZero() async throws {
        // The sample of the API's documentation (Málaga, 2015-05-21).
        try await get("lat=36.7201600&lng=-4.4203400&date=2015-05-21&formatted=0") { response, text in
            #expect(response.status == .ok)
            let positions = Self.fieldOrder.map { text.range(of: "\"\($0)\":")?.lowerBound }
            #expect(positions.allSatisfy { $0 != nil })
            #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
            let object = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(object["status"] as? String == "OK")
            #expect(object["tzid"] as? String == "UTC")
            let results = try #require(object["results"] as? [String: Any])
            let sunrise = try #require(results["sunrise"] as? String)
            #expect(sunrise.range(of: #"^2015-05-21T05:0[56]:\d\d\+00:00$"#, options: .regularExpression) != nil)
            let length = try #require(results["day_length"] as? Int)
            let sunset = try #require(results["sunset"] as? String)
            let formatter = ISO8601DateFormatter()
            let measured = try #require(formatter.date(from: sunset)).timeIntervalSince(try #require(formatter.date(from: sunrise)))
            #expect(Double(length) == measured)
        }
    }

    @Test("formatted=1 (default): 12-hour times without leading zero, H:MM:SS day length, no tzid")
    func formattedOne() async throws {
        try await get("lat=36.72016&lng=-4.42034&date=2015-05-21") { response, text in
            let object = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let results = try #require(object["results"] as? [String: Any])
            #expect(object["tzid"] == nil)
            #expect((results["sunrise"] as? String)?.range(of: #"^5:0[56]:\d\d AM$"#, options: .regularExpression) != nil)
            #expect((results["sunset"] as? String)?.range(of: #"^7:2\d:\d\d PM$"#, options: .regularExpression) != nil)
            #expect((results["day_length"] as? String)?.range(of: #"^14:1\d:\d\d$"#, options: .regularExpression) != nil)
        }
    }

    @Test("tzid renders local time with that zone's offset, summer time included")
    func timeZone() async throws {
        try await get("lat=38.7223&lng=-9.1393&date=2026-07-01&formatted=0&tzid=Europe/Lisbon") { _, text in
            #expect(text.contains(#""tzid":"Europe/Lisbon""#))
            #expect(text.range(of: #""sunrise":"2026-07-01T06:\d\d:\d\d\+01:00""#, options: .regularExpression) != nil)
        }
        try await get("lat=38.7223&lng=-9.1393&date=2026-01-15&formatted=0&tzid=Europe/Lisbon") { _, text in
            #expect(text.range(of: #""sunrise":"2026-01-15T07:\d\d:\d\d\+00:00""#, options: .regularExpression) != nil)
        }
    }

    @Test("polar day and night: missing events are null and day_length is 86400 or 0")
    func polar() async throws {
        try await get("lat=78.22&lng=15.65&date=2026-06-21&formatted=0") { _, text in
            #expect(text.contains(#""sunrise":null,"sunset":null"#))
            #expect(text.contains(#""day_length":86400"#))
            #expect(text.contains(#""astronomical_twilight_begin":null"#))
        }
        try await get("lat=78.22&lng=15.65&date=2026-12-21&formatted=0") { _, text in
            #expect(text.contains(#""sunrise":null,"sunset":null"#))
            #expect(text.contains(#""day_length":0"#))
            // At 78°N in December the Sun still climbs above -18°: astronomical twilight exists.
            #expect(!text.contains(#""astronomical_twilight_begin":null"#))
        }
    }

    @Test("date=today, yesterday and tomorrow are relative to now in the requested zone")
    func relativeDates() async throws {
        try await get("lat=0&lng=0&date=today&formatted=0") { _, text in #expect(text.contains("2026-06-21T")) }
        try await get("lat=0&lng=0&formatted=0") { _, text in #expect(text.contains("2026-06-21T")) }
        try await get("lat=0&lng=0&date=tomorrow&formatted=0") { _, text in #expect(text.contains("\"solar_noon\":\"2026-06-22T")) }
        try await get("lat=0&lng=0&date=yesterday&formatted=0") { _, text in #expect(text.contains("\"solar_noon\":\"2026-06-20T")) }
    }

    @Test(
        "bad input is a 400 with the API's status and an empty results",
        arguments: [
            ("lat=91&lng=0", "INVALID_REQUEST"), ("lat=0&lng=abc", "INVALID_REQUEST"), ("lng=0", "INVALID_REQUEST"),
            ("lat=0", "INVALID_REQUEST"), ("lat=nan&lng=0", "INVALID_REQUEST"), ("lat=0x10&lng=0", "INVALID_REQUEST"),
            ("lat=0&lng=180.5", "INVALID_REQUEST"), ("lat=0&lng=0&formatted=2", "INVALID_REQUEST"),
            ("lat=0&lng=0&callback=alert(1)", "INVALID_REQUEST"), ("lat=0&lng=0&date=2023-02-30", "INVALID_DATE"),
            ("lat=0&lng=0&date=next%20monday", "INVALID_DATE"), ("lat=0&lng=0&date=0000-01-01", "INVALID_DATE"),
            ("lat=0&lng=0&tzid=Mars/Olympus", "INVALID_TZID"), ("lat=0&lng=0&tzid=../../../dev/zero", "INVALID_TZID"),
        ]
    )
    func badInput(query: String, status: String) async throws {
        try await get(query) { response, text in
            #expect(response.status == .badRequest)
            let object = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(object["status"] as? String == status)
            #expect(object["results"] as? String == "")
            #expect((object["error"] as? [String: Any])?["code"] as? String == status.lowercased())
        }
    }

    @Test("callback wraps the JSON for JSONP clients")
    func jsonp() async throws {
        try await get("lat=0&lng=0&date=2026-03-20&callback=show") { response, text in
            #expect(response.headers[.contentType] == "application/javascript; charset=utf-8")
            #expect(text.hasPrefix("show({\"results\":{\"sunrise\":"))
            #expect(text.hasSuffix("\"status\":\"OK\"});"))
        }
    }
}
