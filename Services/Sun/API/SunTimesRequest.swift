import CityscapeKit
import Foundation

/// The validated query of `GET /json`, parsed exactly once at the edge.
///
/// Rules (each failure answers 400 with the API's status value):
/// - `lat` in [-90, 90] and `lng` in [-180, 180], plain decimal numbers (no `nan`, `inf` or hex); missing → `INVALID_REQUEST`.
/// - `date`: `YYYY-MM-DD` (month and day may omit the leading zero), or `today` / `yesterday` / `tomorrow` in the
///   requested time zone; default `today`. Years 1–9999. Anything else (e.g. `2023-02-30`) → `INVALID_DATE`.
/// - `formatted`: `0` or `1` (default 1); anything else → `INVALID_REQUEST`.
/// - `tzid`: one of ``knownZones`` (`Europe/Lisbon`, `UTC`); anything else → `INVALID_TZID`.
/// - `callback`: a JavaScript identifier (JSONP); anything else → `INVALID_REQUEST`.
///
/// An empty value counts as absent. The OpenAPI document states these rules as patterns and enums, exactly:
/// the contract tests hold the two together and schemathesis probes both sides of each rule.
struct SunTimesRequest: Sendable, Equatable {
    let latitude: Double
    let longitude: Double
    let date: CalendarDate
    let formatted: Bool
    let timeZone: TimeZone
    /// The zone exactly as requested, echoed back; nil when the client gave none.
    let requestedTimeZone: String?
    let callback: String?

    static let utc = TimeZone(identifier: "UTC")!

    init(query: [String: String], now: Date) throws(ServiceError) {
        try self.init(query: { query[$0] }, now: now)
    }

    /// `query` returns the value of a parameter, nil when absent.
    init(query: (String) -> String?, now: Date) throws(ServiceError) {
        latitude = try Self.coordinate(query("lat"), name: "lat", limit: 90)
        longitude = try Self.coordinate(query("lng"), name: "lng", limit: 180)
        if let tzid = query("tzid"), !tzid.isEmpty {
            guard let zone = Self.timeZone(tzid) else {
                throw SunAPIStatus.invalidTimeZone.error("tzid '\(tzid)' is not a time zone of the IANA database (e.g. Europe/Lisbon, UTC)")
            }
            timeZone = zone
            requestedTimeZone = tzid
        } else {
            timeZone = Self.utc
            requestedTimeZone = nil
        }
        date = try Self.date(query("date"), now: now, timeZone: timeZone)
        switch query("formatted") {
        case nil, "", "1": formatted = true
        case "0": formatted = false
        case let other?: throw SunAPIStatus.invalidRequest.error("formatted must be 0 or 1, not '\(other)'")
        }
        if let callback = query("callback"), !callback.isEmpty {
            guard Self.isJavaScriptIdentifier(callback) else {
                throw SunAPIStatus.invalidRequest.error("callback must be a JavaScript identifier such as handleSunTimes")
            }
            self.callback = callback
        } else {
            callback = nil
        }
    }

    static func coordinate(_ raw: String?, name: String, limit: Double) throws(ServiceError) -> Double {
        guard let raw, !raw.isEmpty else {
            throw SunAPIStatus.invalidRequest.error("\(name) is required: a decimal number from -\(Int(limit)) to \(Int(limit))")
        }
        guard isPlainDecimal(raw), isWithin(raw, limit: Int(limit)), let value = Double(raw) else {
            throw SunAPIStatus.invalidRequest.error("\(name) '\(raw)' is not a decimal number from -\(Int(limit)) to \(Int(limit))")
        }
        return value
    }

    /// Digits with at most one leading sign and one point, and at least one digit: `Double()` alone would
    /// also accept `nan`, `inf`, `1e3` and hex floats.
    static func isPlainDecimal(_ text: String) -> Bool {
        var digits = 0
        var points = 0
        for (index, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "."): points += 1
            case UInt8(ascii: "+") where index == 0, UInt8(ascii: "-") where index == 0: continue
            default: return false
            }
        }
        return digits > 0 && points <= 1 && text.utf8.count <= 32
    }

    /// Whether a plain decimal lies in [-limit, limit], read from its digits: `Double` would round
    /// `90.000000000000000001` down to 90 and `89.99999999999999999` up to it, where the written value decides.
    static func isWithin(_ plainDecimal: String, limit: Int) -> Bool {
        var integer = 0
        var fractionIsZero = true
        var inFraction = false
        for byte in plainDecimal.utf8 {
            switch byte {
            case UInt8(ascii: "."): inFraction = true
            case UInt8(ascii: "0")...UInt8(ascii: "9") where inFraction: fractionIsZero = fractionIsZero && byte == UInt8(ascii: "0")
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                integer = integer * 10 + Int(byte - UInt8(ascii: "0"))
                if integer > limit { return false }
            default: continue  // the sign
            }
        }
        return integer < limit || fractionIsZero
    }

    static func date(_ raw: String?, now: Date, timeZone: TimeZone) throws(ServiceError) -> CalendarDate {
        let text = raw ?? ""
        if let date = explicitDate(text) { return date }
        let offset: Int? =
            switch text {
            case "", "today": 0
            case "yesterday": -1
            case "tomorrow": 1
            default: nil
            }
        if let offset {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            let day = calendar.date(byAdding: .day, value: offset, to: now) ?? now
            let parts = calendar.dateComponents([.year, .month, .day], from: day)
            if let year = parts.year, let month = parts.month, let dayOfMonth = parts.day,
                let date = CalendarDate(year: year, month: month, day: dayOfMonth)
            {
                return date
            }
        }
        throw SunAPIStatus.invalidDate.error("date '\(text)' is not a real date as YYYY-MM-DD, or today, yesterday or tomorrow")
    }

    /// `YYYY-MM-DD` (month and day may be one digit), read from the bytes: this is every gateway request.
    static func explicitDate(_ text: String) -> CalendarDate? {
        // Three (value, digit count) pairs in a tuple, not arrays: no allocation on every request.
        var fields = (year: (0, 0), month: (0, 0), day: (0, 0))
        var index = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = Int(byte - UInt8(ascii: "0"))
                switch index {
                case 0: fields.year = (fields.year.0 * 10 + digit, fields.year.1 + 1)
                case 1: fields.month = (fields.month.0 * 10 + digit, fields.month.1 + 1)
                default: fields.day = (fields.day.0 * 10 + digit, fields.day.1 + 1)
                }
                guard fields.year.1 <= 4, fields.month.1 <= 4, fields.day.1 <= 4 else { return nil }
            case UInt8(ascii: "-") where index < 2:
                index += 1
            default:
                return nil
            }
        }
        guard index == 2, fields.year.1 == 4, (1...2).contains(fields.month.1), (1...2).contains(fields.day.1), fields.year.0 >= 1 else {
            return nil
        }
        return CalendarDate(year: fields.year.0, month: fields.month.0, day: fields.day.0)
    }

    /// The zones `tzid` accepts (the list the OpenAPI document enumerates).
    static let knownZones: Set<String> = TimeZoneNames.accepted

    static func timeZone(_ tzid: String) -> TimeZone? {
        knownZones.contains(tzid) ? TimeZone(identifier: tzid) : nil
    }

    /// Dot-separated names of ASCII letters, digits, `_` and `$`, none starting with a digit; at most 64 bytes.
    static func isJavaScriptIdentifier(_ name: String) -> Bool {
        guard name.utf8.count <= 64 else { return false }
        var atNameStart = true
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "_"), UInt8(ascii: "$"):
                atNameStart = false
            case UInt8(ascii: "0")...UInt8(ascii: "9") where !atNameStart: continue
            case UInt8(ascii: ".") where !atNameStart: atNameStart = true
            default: return false
            }
        }
        return !atNameStart
    }
}
