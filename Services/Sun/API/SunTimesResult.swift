import CityscapeKit
import Foundation

/// The `results` object of the API, in the original field order, rendered for `formatted=0` or `1`.
///
/// - `formatted=0`: ISO 8601 with the zone's offset (`2015-05-21T05:05:35+00:00`), `day_length` in whole seconds.
/// - `formatted=1`: 12-hour local time without a date (`7:27:02 AM`), `day_length` as `H:MM:SS`.
/// - An event that does not happen that day (polar day or night, twilight that never ends) is `null`;
///   the original API prints `1970-01-01T00:00:01+00:00` there, a real date that clients cannot tell apart.
/// - `day_length` is sunset − sunrise after both are rounded to the second, so the figures add up on screen;
///   without a sunrise or sunset it is the calculator's figure (86400 for polar day, 0 for polar night).
struct SunTimesResult: Sendable {
    let fields: [(key: String, value: FieldValue)]
    let formatted: Bool
    let formatter: LocalTimeFormatter

    enum FieldValue: Sendable, Equatable {
        case instant(Date)
        case text(String)
        case seconds(Int)
        case missing
    }

    init(_ day: SolarDay, formatted: Bool, timeZone: TimeZone) {
        func event(_ date: Date?) -> FieldValue { date.map(FieldValue.instant) ?? .missing }
        let seconds = Self.dayLengthSeconds(day)
        // Built once in the API's order (one allocation; this runs on every request).
        self.fields = [
            ("sunrise", event(day.sunrise)), ("sunset", event(day.sunset)), ("solar_noon", event(day.solarNoon)),
            ("day_length", formatted ? .text(LocalTimeFormatter.hoursMinutesSeconds(seconds)) : .seconds(seconds)),
            ("civil_twilight_begin", event(day.civilTwilightBegin)), ("civil_twilight_end", event(day.civilTwilightEnd)),
            ("nautical_twilight_begin", event(day.nauticalTwilightBegin)), ("nautical_twilight_end", event(day.nauticalTwilightEnd)),
            ("astronomical_twilight_begin", event(day.astronomicalTwilightBegin)),
            ("astronomical_twilight_end", event(day.astronomicalTwilightEnd)),
        ]
        self.formatted = formatted
        self.formatter = LocalTimeFormatter(timeZone: timeZone)
    }

    static func dayLengthSeconds(_ day: SolarDay) -> Int {
        if let sunrise = day.sunrise, let sunset = day.sunset {
            return Int(sunset.timeIntervalSince1970.rounded()) - Int(sunrise.timeIntervalSince1970.rounded())
        }
        return Int(day.dayLength.rounded())
    }

    /// The object as JSON, keys in the API's documented order (JSONEncoder does not keep key order).
    func write(to json: inout JSONWriter) {
        json.beginObject()
        for (key, value) in fields {
            json.key(key)
            switch value {
            case .instant(let date):
                json.quotedASCII { bytes in
                    formatted ? formatter.appendTwelveHour(date, to: &bytes) : formatter.appendISO8601(date, to: &bytes)
                }
            case .text(let text): json.string(text)
            case .seconds(let seconds): json.integer(seconds)
            case .missing: json.null()
            }
        }
        json.endObject()
    }
}

/// The whole `/json` body: `results`, `status`, and `tzid` when times carry an offset.
struct SunTimesResponse: Sendable {
    let results: SunTimesResult
    let status: String
    /// Present for `formatted=0` or when a `tzid` was given, as the API does.
    let tzid: String?

    /// `{"results":{...},"status":"OK"[,"tzid":"..."]}` as bytes.
    func render() -> [UInt8] {
        var json = JSONWriter(capacity: 768)
        json.beginObject()
        json.key("results")
        results.write(to: &json)
        json.key("status")
        json.string(status)
        if let tzid {
            json.key("tzid")
            json.string(tzid)
        }
        json.endObject()
        return json.bytes
    }
}
