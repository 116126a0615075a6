import CityscapeKit
import Foundation
import Testing

@testable import GatewayService

@Suite("The local day asked for and the solar date the sun service is asked for")
struct LocalSolarDayTests {
    static func day(_ text: String) -> CalendarDate { CalendarDate(iso8601: text)! }

    static func instant(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    /// Noon on the zone's clock on both sides of each DST change: the offset changes between the two days.
    @Test(
        "local noon is found on both sides of a DST change",
        arguments: [
            // Europe: last Sunday of March and of October.
            ("Europe/Paris", "2026-03-28", "2026-03-28T11:00:00Z"), ("Europe/Paris", "2026-03-29", "2026-03-29T10:00:00Z"),
            ("Europe/Paris", "2026-10-24", "2026-10-24T10:00:00Z"), ("Europe/Paris", "2026-10-25", "2026-10-25T11:00:00Z"),
            // United States: second Sunday of March, first Sunday of November.
            ("America/New_York", "2026-03-07", "2026-03-07T17:00:00Z"), ("America/New_York", "2026-03-08", "2026-03-08T16:00:00Z"),
            ("America/New_York", "2026-10-31", "2026-10-31T16:00:00Z"), ("America/New_York", "2026-11-01", "2026-11-01T17:00:00Z"),
            // Southern hemisphere: summer time ends on the first Sunday of April and starts on the first of October.
            ("Australia/Sydney", "2026-04-04", "2026-04-04T01:00:00Z"), ("Australia/Sydney", "2026-04-05", "2026-04-05T02:00:00Z"),
            ("Australia/Sydney", "2026-10-03", "2026-10-03T02:00:00Z"), ("Australia/Sydney", "2026-10-04", "2026-10-04T01:00:00Z"),
            // No DST at all, and a half-hour zone.
            ("America/Phoenix", "2026-07-01", "2026-07-01T19:00:00Z"), ("America/St_Johns", "2026-12-06", "2026-12-06T15:30:00Z"),
            ("America/St_Johns", "2026-07-01", "2026-07-01T14:30:00Z"),
            // Samoa on both sides of the day it skipped.
            ("Pacific/Apia", "2011-12-29", "2011-12-29T22:00:00Z"), ("Pacific/Apia", "2011-12-31", "2011-12-30T22:00:00Z"),
        ]
    )
    func localNoon(zone: String, date: String, noon: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        #expect(LocalSolarDay.localNoon(of: Self.day(date), in: timeZone) == Self.instant(noon))
    }

    @Test("a day the zone skipped has no noon and no solar date")
    func skippedDay() throws {
        let apia = try #require(TimeZone(identifier: "Pacific/Apia"))
        #expect(LocalSolarDay.localNoon(of: Self.day("2011-12-30"), in: apia) == nil)
        #expect(LocalSolarDay.solarDate(for: Self.day("2011-12-30"), in: apia, longitude: -171.76) == nil)
    }

    /// The sun service's day is centred on mean noon of the date it gets; where the clock runs a day ahead of the
    /// Sun (Samoa after 2011, Kiritimati), the gateway must ask for the previous date.
    @Test(
        "the solar date is the local date unless the zone's clock is a day away from the Sun",
        arguments: [
            ("Europe/Paris", 2.3453, "2026-03-29", "2026-03-29"), ("America/Los_Angeles", -122.6743, "2026-06-21", "2026-06-21"),
            ("UTC", 179.9, "2026-06-21", "2026-06-21"), ("UTC", -179.9, "2026-06-21", "2026-06-21"),
            ("Pacific/Apia", -171.76, "2011-12-29", "2011-12-29"), ("Pacific/Apia", -171.76, "2011-12-31", "2011-12-30"),
            ("Pacific/Apia", -171.76, "2026-06-21", "2026-06-20"), ("Pacific/Kiritimati", -157.4, "2026-06-21", "2026-06-20"),
            ("Asia/Tokyo", 139.75, "2026-01-01", "2026-01-01"), ("Pacific/Honolulu", -157.85, "2026-01-01", "2026-01-01"),
        ]
    )
    func solarDate(zone: String, longitude: Double, date: String, solar: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        #expect(LocalSolarDay.solarDate(for: Self.day(date), in: timeZone, longitude: longitude) == Self.day(solar))
    }

    @Test("a solar date outside the years 1-9999 is nil, not a wrapped date")
    func outOfRange() throws {
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        let westmost = try #require(TimeZone(identifier: "Etc/GMT+12"))
        #expect(LocalSolarDay.solarDate(for: Self.day("0001-01-01"), in: tokyo, longitude: -179) == nil)
        #expect(LocalSolarDay.solarDate(for: Self.day("9999-12-31"), in: westmost, longitude: 179) == nil)
        #expect(LocalSolarDay.solarDate(for: Self.day("9999-12-31"), in: westmost, longitude: -179) == Self.day("9999-12-31"))
    }

    @Test("today is the date on the zone's clock, not in UTC")
    func today() throws {
        let now = Self.instant("2026-06-21T00:40:00Z")
        #expect(LocalSolarDay.localDate(of: now, in: try #require(TimeZone(identifier: "America/Los_Angeles"))) == Self.day("2026-06-20"))
        #expect(LocalSolarDay.localDate(of: now, in: try #require(TimeZone(identifier: "Europe/Paris"))) == Self.day("2026-06-21"))
        #expect(LocalSolarDay.localDate(of: now, in: try #require(TimeZone(identifier: "UTC"))) == Self.day("2026-06-21"))
    }
}
