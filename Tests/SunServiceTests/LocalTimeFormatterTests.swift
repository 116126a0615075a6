import Foundation
import Testing

@testable import SunService

@Suite("Local time formatting")
struct LocalTimeFormatterTests {
    @Test(
        "wall-clock fields agree with Foundation's Gregorian calendar across zones and centuries",
        arguments: ["UTC", "Europe/Lisbon", "America/St_Johns", "Asia/Kathmandu", "Pacific/Kiritimati", "America/Los_Angeles"]
    )
    func agreesWithCalendar(zone: String) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var generator = SeededGenerator(seed: 42)
        // 1900-01-01 to 2100-12-31, plus the instants around a summer-time change in 2026.
        var instants = (0..<2000).map { _ in TimeInterval(Int64.random(in: -2_208_988_800...4_133_980_799, using: &generator)) }
        instants += stride(from: 1_774_746_000.0, to: 1_774_753_200, by: 1799)
        for instant in instants {
            let date = Date(timeIntervalSince1970: instant)
            let expected = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let actual = LocalTime(date, in: timeZone)
            #expect(
                [actual.year, actual.month, actual.day, actual.hour, actual.minute, actual.second]
                    == [expected.year, expected.month, expected.day, expected.hour, expected.minute, expected.second],
                "\(zone) at \(instant)"
            )
        }
    }

    @Test("ISO 8601 and 12-hour renderings, offsets with minutes, rounding to the nearest second")
    func renderings() throws {
        let kathmandu = LocalTimeFormatter(timeZone: try #require(TimeZone(identifier: "Asia/Kathmandu")))
        let utc = LocalTimeFormatter(timeZone: try #require(TimeZone(identifier: "UTC")))
        let instant = Date(timeIntervalSince1970: 1_432_184_735.6)  // 2015-05-21T05:05:35.6Z
        #expect(utc.iso8601(instant) == "2015-05-21T05:05:36+00:00")
        #expect(utc.twelveHour(instant) == "5:05:36 AM")
        #expect(kathmandu.iso8601(instant) == "2015-05-21T10:50:36+05:45")
        #expect(utc.twelveHour(Date(timeIntervalSince1970: 1_432_166_400)) == "12:00:00 AM")
        #expect(utc.twelveHour(Date(timeIntervalSince1970: 1_432_209_600)) == "12:00:00 PM")
        #expect(LocalTimeFormatter.hoursMinutesSeconds(86_400) == "24:00:00")
        #expect(LocalTimeFormatter.hoursMinutesSeconds(34_733) == "9:38:53")
    }
}

/// A deterministic generator (SplitMix64), so a failure names an instant that reproduces.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
