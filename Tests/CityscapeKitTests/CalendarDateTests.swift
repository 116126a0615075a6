import CityscapeKit
import Foundation
import Testing

@Suite("CalendarDate: strict YYYY-MM-DD and the UTC day of an instant")
struct CalendarDateTests {
    @Test("real days parse and print back unchanged", arguments: ["2026-06-21", "0001-01-01", "9999-12-31", "2000-02-29", "1582-10-10"])
    func roundTrip(text: String) throws {
        let date = try #require(CalendarDate(iso8601: text))
        #expect(date.iso8601 == text)
    }

    @Test(
        "anything but a real day written YYYY-MM-DD is rejected",
        arguments: [
            "2026-6-21", "2026-02-30", "2100-02-29", "0000-01-01", "+2026-01-01", "2026-13-01", "2026/06/21", "２０２６-06-21", "", "2026-06-2x",
            "2026-06-211", "2026-06-21 ",
        ]
    )
    func rejected(text: String) {
        #expect(CalendarDate(iso8601: text) == nil)
    }

    @Test("the UTC day of an instant matches Foundation's Gregorian calendar, across a sweep of 30 years")
    func utcDay() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        // Every 37 hours from 1990, hitting every time of day and month boundary, plus the edges of a day.
        var instants = stride(from: 631_152_000.0, to: 1_577_836_800.0, by: 37 * 3600).map { Date(timeIntervalSince1970: $0) }
        instants += [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: 86_399.999)]
        for instant in instants {
            let parts = calendar.dateComponents([.year, .month, .day], from: instant)
            let date = CalendarDate(utcDayOf: instant)
            #expect([date.year, date.month, date.day] == [parts.year, parts.month, parts.day], "\(instant)")
        }
    }
}
