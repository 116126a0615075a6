import CityscapeKit
import Foundation

/// Renders instants in one time zone the way sunrise-sunset.org does, rounded to the nearest second.
///
/// Hand-written rather than `DateFormatter` or `Calendar`: both formats are fixed and locale-independent,
/// and this is the hot path of `/json` (ten instants per request). The zone's offset comes from the
/// system database for each instant, so `tzid` renders summer time correctly; the calendar arithmetic is
/// the proleptic Gregorian civil-from-days algorithm (Howard Hinnant's `civil_from_days`).
struct LocalTimeFormatter: Sendable {
    let timeZone: TimeZone
    /// UTC's offset is always 0: most requests (every gateway call) use it, and asking Foundation for the
    /// offset of each of ten instants is not free.
    private let isUTC: Bool

    init(timeZone: TimeZone) {
        self.timeZone = timeZone
        self.isUTC = timeZone.identifier == "UTC" || timeZone.identifier == "GMT"
    }

    /// `2015-05-21T05:05:35+00:00`.
    func iso8601(_ date: Date) -> String {
        var bytes: [UInt8] = []
        appendISO8601(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `7:27:02 AM`: 12-hour clock, hour not padded, no date.
    func twelveHour(_ date: Date) -> String {
        var bytes: [UInt8] = []
        appendTwelveHour(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `iso8601(date)` straight into `bytes`: ten of these per request, and building Strings
    /// piece by piece would be a large share of the route's cost.
    func appendISO8601(_ date: Date, to bytes: inout [UInt8]) {
        let time = LocalTime(date, in: timeZone, isUTC: isUTC)
        appendPadded(time.year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(time.month, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendPadded(time.day, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendClock(time, to: &bytes)
        bytes.append(time.offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        let offsetMinutes = abs(time.offset) / 60
        appendPadded(offsetMinutes / 60, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(offsetMinutes % 60, to: &bytes)
    }

    /// Writes `twelveHour(date)` straight into `bytes`.
    func appendTwelveHour(_ date: Date, to bytes: inout [UInt8]) {
        let time = LocalTime(date, in: timeZone, isUTC: isUTC)
        let twelve = time.hour % 12 == 0 ? 12 : time.hour % 12
        appendPadded(twelve, width: 1, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(time.minute, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(time.second, to: &bytes)
        bytes.append(contentsOf: time.hour < 12 ? [0x20, 0x41, 0x4D] : [0x20, 0x50, 0x4D])  // " AM" / " PM"
    }

    private func appendClock(_ time: LocalTime, to bytes: inout [UInt8]) {
        appendPadded(time.hour, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(time.minute, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendPadded(time.second, to: &bytes)
    }

    /// `9:38:53` for a day length in seconds (`24:00:00` for a polar day).
    static func hoursMinutesSeconds(_ seconds: Int) -> String {
        let seconds = max(0, seconds)
        return "\(seconds / 3600):\(pad(seconds / 60 % 60)):\(pad(seconds % 60))"
    }
}

/// The wall-clock fields of an instant in a zone, rounded to the nearest second.
struct LocalTime: Equatable {
    let year: Int
    let month: Int
    let day: Int
    let hour: Int
    let minute: Int
    let second: Int
    /// Seconds east of UTC at that instant.
    let offset: Int

    init(_ date: Date, in timeZone: TimeZone, isUTC: Bool = false) {
        let utc = Int(date.timeIntervalSince1970.rounded())
        offset = isUTC ? 0 : timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utc)))
        let local = utc + offset
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = local - days * 86_400
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
        (year, month, day) = CalendarDate.civil(fromDaysSinceUnixEpoch: days)
    }
}

private func pad(_ value: Int, _ width: Int = 2) -> String {
    var bytes: [UInt8] = []
    appendPadded(value, width: width, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

/// Appends the decimal digits of a non-negative `value`, left-padded with zeros to `width`, without
/// allocating.
private func appendPadded(_ value: Int, width: Int = 2, to bytes: inout [UInt8]) {
    let value = max(0, value)
    var divisor = 1
    var digits = 1
    while divisor <= value / 10 {
        divisor *= 10
        digits += 1
    }
    for _ in digits..<max(digits, width) { bytes.append(UInt8(ascii: "0")) }
    var rest = value
    while divisor > 0 {
        bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
        rest %= divisor
        divisor /= 10
    }
}
