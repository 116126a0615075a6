import CityscapeKit
import Foundation

/// Which solar day answers "the sun on this calendar day at this place, in this zone".
///
/// The sun service (like sunrise-sunset.org) returns the solar day centred on local *mean* noon of the date it is
/// given, whatever zone it renders in. A zone's clock can be far from mean solar time (Pacific/Apia is UTC+13 at
/// 172° W, a day ahead of the Sun), so the date to ask for is the mean-solar date at the longitude at the instant
/// the zone's clock shows noon of the local day: its transit then falls on that local day, DST or not.
enum LocalSolarDay {
    /// The instant the zone's clock shows 12:00 on `day`, or nil when the zone skipped that whole day
    /// (Pacific/Apia jumped from 2011-12-29 to 2011-12-31).
    static func localNoon(of day: CalendarDate, in zone: TimeZone) -> Date? {
        let wall = TimeInterval(day.daysSinceUnixEpoch * 86_400 + 43_200)
        // Two passes find the offset in force at that wall-clock time; trying the offsets before and after a
        // transition covers both sides of it, and the check rejects a wall time that no instant shows.
        let first = zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall))
        let second = zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall - TimeInterval(first)))
        for offset in [second, first] {
            let instant = Date(timeIntervalSince1970: wall - TimeInterval(offset))
            if localDate(of: instant, in: zone) == day {
                return instant
            }
        }
        return nil
    }

    /// The date the sun service must be asked for so that its solar day is `day`'s at `longitude` in `zone`;
    /// nil when the zone skipped that day.
    static func solarDate(for day: CalendarDate, in zone: TimeZone, longitude: Double) -> CalendarDate? {
        localNoon(of: day, in: zone).flatMap { solarDate(atLocalNoon: $0, longitude: longitude) }
    }

    /// The mean-solar date at `longitude` at the instant `noon`; nil outside the years 1-9999.
    static func solarDate(atLocalNoon noon: Date, longitude: Double) -> CalendarDate? {
        // Mean solar time runs `longitude / 15` hours ahead of UTC: 240 s per degree.
        let meanSolar = noon.timeIntervalSince1970 + longitude * 240
        return date(daysSinceUnixEpoch: Int((meanSolar / 86_400).rounded(.down)))
    }

    /// The calendar day the zone's clock shows at `instant`.
    static func localDate(of instant: Date, in zone: TimeZone) -> CalendarDate? {
        let local = instant.timeIntervalSince1970 + TimeInterval(zone.secondsFromGMT(for: instant))
        return date(daysSinceUnixEpoch: Int((local / 86_400).rounded(.down)))
    }

    private static func date(daysSinceUnixEpoch days: Int) -> CalendarDate? {
        let (year, month, day) = CalendarDate.civil(fromDaysSinceUnixEpoch: days)
        return CalendarDate(year: year, month: month, day: day)
    }
}
