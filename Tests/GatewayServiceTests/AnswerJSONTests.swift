import CityscapeKit
import Foundation
import NIOCore
import Testing

@testable import GatewayService

/// The gateway's answer body, written into its buffer, against CityscapeKit's `JSONWriter` and `JSONDecoder`.
@Suite("Answer JSON")
struct AnswerJSONTests {
    static let strings = ["", "Portland", "München Ålesund 東京", #"a "quoted" \ back"#, "line\nfeed\ttab\r\u{1}\u{1F}", "2026-06-21T05:21:52-07:00"]
    static let numbers: [Double] = [0, -0.0, 45.5496, -122.6743, 1e-05, 52, -7, 1e15, 123456.789012, .infinity]

    @Test("strings, numbers and null come out byte for byte as JSONWriter writes them")
    func sameAsJSONWriter() {
        var answer = AnswerJSON(capacity: 16)
        var writer = JSONWriter()
        writer.beginObject()
        for (index, value) in Self.strings.enumerated() {
            answer.key("s\(index)")
            answer.string(value)
            writer.key("s\(index)")
            writer.string(value)
        }
        for (index, value) in Self.numbers.enumerated() {
            answer.key("n\(index)")
            answer.number(value)
            writer.key("n\(index)")
            writer.number(value)
        }
        answer.key("absent")
        answer.optionalString(nil)
        writer.key("absent")
        writer.optionalString(nil)
        answer.key("count")
        answer.integer(-56489)
        writer.key("count")
        writer.integer(-56489)
        answer.end()
        writer.endObject()
        #expect(Array(buffer: answer.buffer) == writer.bytes)
    }

    @Test("an answer whose strings need escaping reads back as the same values")
    func readsBack() throws {
        let times = SunTimes(
            sunrise: Self.strings[3],
            sunset: nil,
            solarNoon: Self.strings[4],
            dayLength: 0,
            civilTwilightBegin: Self.strings[2],
            civilTwilightEnd: nil,
            nauticalTwilightBegin: nil,
            nauticalTwilightEnd: nil,
            astronomicalTwilightBegin: nil,
            astronomicalTwilightEnd: ""
        )
        let location = LocationRecord(postalCode: "SW1A", country: "GB", place: #"St. "James's""#, latitude: 51.5, longitude: -0.12, timezone: nil)
        let answer = SunAnswer(location: location, date: "2026-06-21", timeZone: "Europe/London", times: times)
        let bytes = Array(buffer: answer.body())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["place"] as? String == location.place)
        #expect(object["sunrise"] as? String == Self.strings[3])
        #expect(object["solar_noon"] as? String == Self.strings[4])
        #expect(object["civil_twilight_begin"] as? String == Self.strings[2])
        #expect(object["sunset"] is NSNull)
        #expect(object["longitude"] as? Double == -0.12)
        #expect(object.count == 17)
        // Keys in sorted order, as every Cityscape body.
        let text = String(decoding: bytes, as: UTF8.self)
        let positions = object.keys.sorted().map { text.range(of: "\"\($0)\":")?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil } && positions == positions.sorted { $0! < $1! })
    }
}
