import CityscapeKit
import Hummingbird
import NIOCore

/// The gateway's answer: where the postal code is, and the sun times there on that date.
///
/// Times are ISO 8601 in UTC exactly as the sun service returns them with `formatted=0`; an event that
/// does not happen that day (polar day or night) is `null`, written out rather than omitted so every
/// answer has the same keys. `day_length` is in seconds. Keys are sorted, as every Cityscape JSON body.
/// Written with `JSONWriter` rather than `JSONEncoder`, whose generic machinery cost more than the rest
/// of the answer's assembly.
struct SunAnswer: ResponseGenerator, Sendable, Equatable {
    let location: LocationRecord
    let date: String
    let times: SunTimes

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var json = JSONWriter(capacity: 768)
        json.beginObject()
        // Sorted by key.
        json.key("astronomical_twilight_begin")
        json.optionalString(times.astronomicalTwilightBegin)
        json.key("astronomical_twilight_end")
        json.optionalString(times.astronomicalTwilightEnd)
        json.key("civil_twilight_begin")
        json.optionalString(times.civilTwilightBegin)
        json.key("civil_twilight_end")
        json.optionalString(times.civilTwilightEnd)
        json.key("country")
        json.string(location.country)
        json.key("date")
        json.string(date)
        json.key("day_length")
        json.integer(times.dayLength)
        json.key("latitude")
        json.number(location.latitude)
        json.key("longitude")
        json.number(location.longitude)
        json.key("nautical_twilight_begin")
        json.optionalString(times.nauticalTwilightBegin)
        json.key("nautical_twilight_end")
        json.optionalString(times.nauticalTwilightEnd)
        json.key("place")
        json.string(location.place)
        json.key("postal_code")
        json.string(location.postalCode)
        json.key("solar_noon")
        json.optionalString(times.solarNoon)
        json.key("sunrise")
        json.optionalString(times.sunrise)
        json.key("sunset")
        json.optionalString(times.sunset)
        json.endObject()
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: json.bytes))
        )
    }
}
