import Hummingbird

/// The gateway's answer: where the postal code is, and the sun times there on that date.
///
/// Times are ISO 8601 in UTC exactly as the sun service returns them with `formatted=0`; an event that
/// does not happen that day (polar day or night) is `null`, written out rather than omitted so every
/// answer has the same keys. `day_length` is in seconds.
struct SunAnswer: ResponseEncodable, Sendable, Equatable {
    let location: LocationRecord
    let date: String
    let times: SunTimes

    enum CodingKeys: String, CodingKey {
        case postalCode = "postal_code"
        case country, place, latitude, longitude, date
        case sunrise, sunset
        case solarNoon = "solar_noon"
        case dayLength = "day_length"
        case civilTwilightBegin = "civil_twilight_begin"
        case civilTwilightEnd = "civil_twilight_end"
        case nauticalTwilightBegin = "nautical_twilight_begin"
        case nauticalTwilightEnd = "nautical_twilight_end"
        case astronomicalTwilightBegin = "astronomical_twilight_begin"
        case astronomicalTwilightEnd = "astronomical_twilight_end"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(location.postalCode, forKey: .postalCode)
        try container.encode(location.country, forKey: .country)
        try container.encode(location.place, forKey: .place)
        try container.encode(location.latitude, forKey: .latitude)
        try container.encode(location.longitude, forKey: .longitude)
        try container.encode(date, forKey: .date)
        // `encode` rather than `encodeIfPresent`: a missing event is an explicit null.
        try container.encode(times.sunrise, forKey: .sunrise)
        try container.encode(times.sunset, forKey: .sunset)
        try container.encode(times.solarNoon, forKey: .solarNoon)
        try container.encode(times.dayLength, forKey: .dayLength)
        try container.encode(times.civilTwilightBegin, forKey: .civilTwilightBegin)
        try container.encode(times.civilTwilightEnd, forKey: .civilTwilightEnd)
        try container.encode(times.nauticalTwilightBegin, forKey: .nauticalTwilightBegin)
        try container.encode(times.nauticalTwilightEnd, forKey: .nauticalTwilightEnd)
        try container.encode(times.astronomicalTwilightBegin, forKey: .astronomicalTwilightBegin)
        try container.encode(times.astronomicalTwilightEnd, forKey: .astronomicalTwilightEnd)
    }
}
