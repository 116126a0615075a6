import Foundation

/// Renders instants in one time zone the way sunrise-sunset.org does, rounded to the nearest second.
///
/// Hand-written rather than `DateFormatter` because both formats are fixed, locale-independent and on
/// the hot path; the zone's offset comes from the system database for that very instant (so `tzid`
/// renders summer time correctly).
struct LocalTimeFormatter: Sendable {
    let timeZone: TimeZone
    let calendar: Calendar

    init(timeZone: TimeZone) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// `2015-05-21T05:05:35+00:00`.
    func iso8601(_ date: Date) -> String {
        let (parts, offset) = components(date)
        let sign = offset < 0 ? "-" : "+"
        let offsetMinutes = abs(offset) / 60
        return "\(pad(parts.year ?? 0, 4))-\(pad(parts.month ?? 0))-\(pad(parts.day ?? 0))T"
            + "\(pad(parts.hour ?? 0)):\(pad(parts.minute ?? 0)):\(pad(parts.second ?? 0))"
            + "\(sign)\(pad(offsetMinutes / 60)):\(pad(offsetMinutes % 60))"
    }

    /// `7:27:02 AM`: 12-hour clock, hour not padded, no date.
    func twelveHour(_ date: Date) -> String {
        let (parts, _) = components(date)
        let hour = parts.hour ?? 0
        let twelve = hour % 12 == 0 ? 12 : hour % 12
        return "\(twelve):\(pad(parts.minute ?? 0)):\(pad(parts.second ?? 0)) \(hour < 12 ? "AM" : "PM")"
    }

    /// `9:38:53` for a day length in seconds (`24:00:00` for a polar day).
    static func hoursMinutesSeconds(_ seconds: Int) -> String {
        let seconds = max(0, seconds)
        return "\(seconds / 3600):\(pad(seconds / 60 % 60)):\(pad(seconds % 60))"
    }

    private func components(_ date: Date) -> (DateComponents, Int) {
        let rounded = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded())
        return (calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: rounded), timeZone.secondsFromGMT(for: rounded))
    }
}

private func pad(_ value: Int, _ width: Int = 2) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
