import Foundation

/// A civil calendar date with no time zone: the `date` parameter of the sun service and of the gateway.
///
/// Dates use the proleptic Gregorian calendar, so 1582 and earlier follow the same leap rules as today.
/// Only years 1...9999 are representable: that is the range ISO 8601 writes with four digits, and it keeps every
/// day count far from overflow.
public struct CalendarDate: Hashable, Sendable, Comparable {
    public let year: Int
    public let month: Int
    public let day: Int

    /// The years a `CalendarDate` can hold.
    public static let supportedYears = 1...9999

    /// Creates a date, or returns `nil` when the fields do not name a real day (e.g. 2023-02-30, 2100-02-29).
    public init?(year: Int, month: Int, day: Int) {
        guard Self.supportedYears.contains(year), (1...12).contains(month) else { return nil }
        guard day >= 1, day <= Self.daysInMonth(month, of: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Whole days from 1970-01-01 to this date (negative before 1970).
    ///
    /// Howard Hinnant's `days_from_civil`: counting from 1 March makes the leap day the last day of the
    /// shifted year, so no month table is needed.
    public var daysSinceUnixEpoch: Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// `true` for Gregorian leap years (every 4th year, except centuries not divisible by 400).
    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// The number of days in `month` (1...12) of `year`.
    public static func daysInMonth(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Parses exactly `YYYY-MM-DD` naming a real day; anything else (`2026-6-1`, `2026-02-30`, `+2026-01-01`) is nil.
    public init?(iso8601 text: some StringProtocol) {
        // Ten bytes are read into a fixed place, not an array, since the gateway parses one per request.
        var bytes: (UInt64, UInt16) = (0, 0)
        let count = withUnsafeMutableBytes(of: &bytes) { place in
            var count = 0
            for byte in text.utf8 {
                guard count < place.count else { return count + 1 }
                place[count] = byte
                count += 1
            }
            return count
        }
        guard count == 10 else { return nil }
        let parsed: (year: Int, month: Int, day: Int)? = withUnsafeBytes(of: bytes) { bytes in
            guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
            func number(_ range: Range<Int>) -> Int? {
                var value = 0
                for byte in bytes[range] {
                    guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                    value = value * 10 + Int(byte - UInt8(ascii: "0"))
                }
                return value
            }
            guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
            return (year, month, day)
        }
        guard let parsed else { return nil }
        self.init(year: parsed.year, month: parsed.month, day: parsed.day)
    }

    /// The UTC calendar day of `instant`.
    public init(utcDayOf instant: Date) {
        let (year, month, day) = Self.civil(fromDaysSinceUnixEpoch: Int((instant.timeIntervalSince1970 / 86_400).rounded(.down)))
        // Instants outside years 1...9999 are clamped; no clock reads them.
        self = CalendarDate(year: year, month: month, day: day) ?? CalendarDate(year: year < 1 ? 1 : 9999, month: 1, day: 1)!
    }

    /// The proleptic Gregorian date `days` after 1970-01-01, for any `Int` (no 1...9999 limit): Howard
    /// Hinnant's `civil_from_days`, the inverse of `daysSinceUnixEpoch`.
    public static func civil(fromDaysSinceUnixEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYY-MM-DD`.
    ///
    /// Written digit by digit into the string's own ten bytes (a small string, so nothing is allocated): the
    /// gateway writes two per request. Years are 1...9999, so four digits always suffice.
    public var iso8601: String {
        String(unsafeUninitializedCapacity: 10) { bytes in
            func put(_ value: Int, digits: Int, at start: Int) {
                var value = value
                for index in (start..<start + digits).reversed() {
                    bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, digits: 4, at: 0)
            bytes[4] = UInt8(ascii: "-")
            put(month, digits: 2, at: 5)
            bytes[7] = UInt8(ascii: "-")
            put(day, digits: 2, at: 8)
            return 10
        }
    }
}
