import CityscapeKit
import HTTPTypes
import Hummingbird
import NIOCore

/// The gateway's answer: where the postal code is, and the sun times there on that date.
///
/// Times are ISO 8601 with the offset of `timezone` at each instant (`2026-12-06T08:28:35+01:00`), exactly
/// as the sun service renders them for that `tzid` with `formatted=0`; `date` is the calendar day on that
/// zone's clock. An event that does not happen that day (polar day or night) is `null`, written out rather
/// than omitted so every answer has the same keys. `day_length` is in seconds. Keys are sorted, as every
/// Cityscape JSON body.
/// Written with ``AnswerJSON`` straight into the body's buffer rather than with `JSONEncoder`, whose generic
/// machinery cost more than the rest of the answer's assembly; the route builds the whole response with
/// ``response(serverTiming:)``, its two headers in one field list.
struct SunAnswer: Sendable, Equatable {
    let location: LocationRecord
    let date: String
    /// IANA id of the zone the times are in (`UTC` for `?tz=utc`).
    let timeZone: String
    let times: SunTimes

    /// The 200 answer with its `Server-Timing` value.
    func response(serverTiming: String) -> Response {
        // Appended to a list sized for both: a dictionary literal would build an array of pairs first.
        var headers = HTTPFields()
        headers.reserveCapacity(2)
        headers.append(Self.contentType)
        headers.append(HTTPField(name: .serverTiming, value: serverTiming))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body()))
    }

    /// Checked once: every answer has the same media type.
    private static let contentType = HTTPField(name: .contentType, value: "application/json; charset=utf-8")

    /// The JSON body, keys sorted as in every Cityscape body.
    func body() -> ByteBuffer {
        // The wire names are the upstream models' coding keys, so the answer and the decoding never disagree.
        typealias Times = SunTimes.CodingKeys
        typealias Place = LocationRecord.CodingKeys
        var json = AnswerJSON(capacity: 768)
        // The nine times are read from the packed value's one buffer, borrowed for the whole body.
        times.withUTF8 { time in
            // Sorted by key.
            json.key(Times.astronomicalTwilightBegin.rawValue)
            json.optionalString(utf8: time(.astronomicalTwilightBegin))
            json.key(Times.astronomicalTwilightEnd.rawValue)
            json.optionalString(utf8: time(.astronomicalTwilightEnd))
            json.key(Times.civilTwilightBegin.rawValue)
            json.optionalString(utf8: time(.civilTwilightBegin))
            json.key(Times.civilTwilightEnd.rawValue)
            json.optionalString(utf8: time(.civilTwilightEnd))
            json.key(Place.country.rawValue)
            json.string(location.country)
            json.key("date")
            json.string(date)
            json.key(Times.dayLength.rawValue)
            json.integer(times.dayLength)
            json.key(Place.latitude.rawValue)
            json.number(location.latitude)
            json.key(Place.longitude.rawValue)
            json.number(location.longitude)
            json.key(Times.nauticalTwilightBegin.rawValue)
            json.optionalString(utf8: time(.nauticalTwilightBegin))
            json.key(Times.nauticalTwilightEnd.rawValue)
            json.optionalString(utf8: time(.nauticalTwilightEnd))
            json.key(Place.place.rawValue)
            json.string(location.place)
            json.key(Place.postalCode.rawValue)
            json.string(location.postalCode)
            json.key(Times.solarNoon.rawValue)
            json.optionalString(utf8: time(.solarNoon))
            json.key(Times.sunrise.rawValue)
            json.optionalString(utf8: time(.sunrise))
            json.key(Times.sunset.rawValue)
            json.optionalString(utf8: time(.sunset))
            json.key("timezone")
            json.string(timeZone)
            json.end()
        }
        return json.buffer
    }
}
