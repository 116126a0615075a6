import Foundation

/// A civil calendar date with no time zone (the `date` query parameter).
///
/// Dates use the proleptic Gregorian calendar, so 1582 and earlier follow the same leap rules as today.
/// Only years 1...9999 are representable: that is the range ISO 8601 writes with four digits, and it keeps every
/// day count far from overflow.
struct CalendarDate: Hashable, Sendable, Comparable {
    let year: Int
    let month: Int
    let day: Int

    /// The years a `CalendarDate` can hold.
    static let supportedYears = 1...9999

    /// Creates a date, or returns `nil` when the fields do not name a real day (e.g. 2023-02-30, 2100-02-29).
    init?(year: Int, month: Int, day: Int) {
        guard Self.supportedYears.contains(year), (1...12).contains(month) else { return nil }
        guard day >= 1, day <= Self.daysInMonth(month, of: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Whole days from 1970-01-01 to this date (negative before 1970).
    ///
    /// Howard Hinnant's `days_from_civil`: counting from 1 March makes the leap day the last day of the
    /// shifted year, so no month table is needed.
    var daysSinceUnixEpoch: Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// `true` for Gregorian leap years (every 4th year, except centuries not divisible by 400).
    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// The number of days in `month` (1...12) of `year`.
    static func daysInMonth(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
