import CityscapeTestSupport
import Foundation
import Testing

/// The gateway's local-time answers against the real location and sun binaries: zones from the postal data,
/// offsets from the system's time-zone database, the day on the place's clock. One stack for every case: the
/// logic does not depend on the transport, and each stack loads a million postal codes.
@Suite("Live gateway: answers in the place's local time", .serialized)
struct GatewayLocalTimeTests {
    /// Every event of an answer that happens, as text.
    static func events(_ body: [String: Any]) -> [String] {
        [
            "sunrise", "sunset", "solar_noon", "civil_twilight_begin", "civil_twilight_end", "nautical_twilight_begin",
            "nautical_twilight_end", "astronomical_twilight_begin", "astronomical_twilight_end",
        ].compactMap { body[$0] as? String }
    }

    @Test("offsets on both sides of DST changes and in zones without DST; the day is the place's")
    func offsets() async throws {
        let stack = try await GatewayStack.start(mode: "async")
        defer { Task { await stack.stop() } }
        let cases: [(postal: String, country: String, date: String, zone: String, offset: String)] = [
            // Europe: last Sunday of March and of October.
            ("75001", "FR", "2026-03-28", "Europe/Paris", "+01:00"), ("75001", "FR", "2026-03-29", "Europe/Paris", "+02:00"),
            ("75001", "FR", "2026-10-24", "Europe/Paris", "+02:00"), ("75001", "FR", "2026-10-25", "Europe/Paris", "+01:00"),
            // United States: second Sunday of March, first Sunday of November.
            ("10001", "US", "2026-03-07", "America/New_York", "-05:00"), ("10001", "US", "2026-03-08", "America/New_York", "-04:00"),
            ("10001", "US", "2026-10-31", "America/New_York", "-04:00"), ("10001", "US", "2026-11-01", "America/New_York", "-05:00"),
            // Southern hemisphere: summer time ends in April and starts in October.
            ("2000", "AU", "2026-04-04", "Australia/Sydney", "+11:00"), ("2000", "AU", "2026-04-05", "Australia/Sydney", "+10:00"),
            ("2000", "AU", "2026-10-03", "Australia/Sydney", "+10:00"), ("2000", "AU", "2026-10-04", "Australia/Sydney", "+11:00"),
            // Half-hour zones, zones without DST, the Navajo Nation inside Arizona.
            ("A1C", "CA", "2026-12-06", "America/St_Johns", "-03:30"), ("5000", "AU", "2026-12-06", "Australia/Adelaide", "+10:30"),
            ("4000", "AU", "2026-12-06", "Australia/Brisbane", "+10:00"), ("S4P", "CA", "2026-07-01", "America/Regina", "-06:00"),
            ("85001", "US", "2026-07-01", "America/Phoenix", "-07:00"), ("86515", "US", "2026-07-01", "America/Denver", "-06:00"),
            ("96813", "US", "2026-07-01", "Pacific/Honolulu", "-10:00"), ("236000", "RU", "2026-07-01", "Europe/Kaliningrad", "+02:00"),
            ("35001", "ES", "2026-07-01", "Atlantic/Canary", "+01:00"), ("9500-010", "PT", "2026-12-06", "Atlantic/Azores", "-01:00"),
            // Samoa on both sides of the day it skipped: UTC-10, then UTC+14, a day ahead of the Sun.
            ("AS%2096799", "WS", "2011-12-29", "Pacific/Apia", "-10:00"), ("AS%2096799", "WS", "2011-12-31", "Pacific/Apia", "+14:00"),
        ]
        for item in cases {
            let label = "\(item.postal) \(item.country) \(item.date)"
            let response = try await stack.sun(item.postal, item.country, query: "?date=\(item.date)")
            #expect(response.status == 200, "\(label)")
            let body = try response.json()
            #expect(body["timezone"] as? String == item.zone, "\(label)")
            #expect(body["date"] as? String == item.date, "\(label)")
            // Sunrise, noon and sunset fall on the day asked for, on the place's clock, with the day's offset.
            for key in ["sunrise", "solar_noon", "sunset"] {
                let time = try #require(body[key] as? String, "\(label) \(key)")
                #expect(time.hasPrefix(item.date + "T"), "\(label) \(key) \(time)")
                #expect(time.hasSuffix(item.offset), "\(label) \(key) \(time)")
            }
            let noonHour = (body["solar_noon"] as? String).flatMap { Int($0.dropFirst(11).prefix(2)) }
            #expect(noonHour.map { (10...14).contains($0) } == true, "\(label) solar noon near 12:00 on the clock")
        }
    }

    @Test("a day the place's clock skipped is a 400; tz=utc keeps the UTC answer; a bad tz never reaches an upstream")
    func edges() async throws {
        let stack = try await GatewayStack.start(mode: "async")
        defer { Task { await stack.stop() } }
        let skipped = try await stack.sun("AS%2096799", "WS", query: "?date=2011-12-30")
        #expect(skipped.status == 400)
        #expect(try errorCode(skipped) == "invalid_date")
        #expect(stack.sunCalls() == 0)

        // The lesson's request, in UTC as before zones existed.
        let utc = try await stack.sun("97227", "US", query: "?date=2026-06-21&tz=utc")
        #expect(utc.status == 200)
        let body = try utc.json()
        #expect(body["timezone"] as? String == "UTC")
        #expect((body["sunrise"] as? String)?.hasPrefix("2026-06-21T12:") == true)
        #expect(Self.events(body).allSatisfy { $0.hasSuffix("+00:00") })

        // Any zone on request: Portland's sun on Tokyo's clock.
        let tokyo = try await stack.sun("97227", "US", query: "?date=2026-06-21&tz=Asia/Tokyo")
        #expect(try tokyo.json()["timezone"] as? String == "Asia/Tokyo")
        #expect(Self.events(try tokyo.json()).allSatisfy { $0.hasSuffix("+09:00") })

        let locationCalls = stack.locationCalls()
        let sunCalls = stack.sunCalls()
        for tz in ["Mars/Olympus_Mons", "..%2F..%2Fetc%2Fpasswd", "Europe%2F"] {
            let response = try await stack.sun("97227", "US", query: "?date=2026-06-21&tz=\(tz)")
            #expect(response.status == 400, "\(tz)")
            #expect(try errorCode(response) == "invalid_timezone", "\(tz)")
        }
        #expect(stack.locationCalls() == locationCalls)
        #expect(stack.sunCalls() == sunCalls)
    }

    @Test("polar night and midnight sun on the place's clock")
    func polar() async throws {
        let stack = try await GatewayStack.start(mode: "async")
        defer { Task { await stack.stop() } }
        // Tromsø: no sunrise in December, no sunset in June; whatever happens is in Norwegian time.
        for (date, offset) in [("2026-12-21", "+01:00"), ("2026-06-21", "+02:00")] {
            let response = try await stack.sun("9008", "NO", query: "?date=\(date)")
            #expect(response.status == 200)
            let body = try response.json()
            #expect(body["timezone"] as? String == "Europe/Oslo")
            #expect(body["sunrise"] is NSNull)
            #expect(body["sunset"] is NSNull)
            #expect(body["day_length"] as? Int == (date.hasSuffix("12-21") ? 0 : 86_400))
            #expect(Self.events(body).allSatisfy { $0.hasSuffix(offset) }, "\(date)")
            #expect((body["solar_noon"] as? String)?.hasPrefix(date + "T") == true)
        }
    }
}
