import Foundation
import Testing

@testable import GatewayService

/// `UpstreamDecoding` against `JSONDecoder`: on every body, the same value or the same failure (nil), and
/// the fast path taken on the answers the services send.
@Suite struct UpstreamDecodingTests {
    /// A body; `fast` says whether the reader must decode it itself (true), must leave it to `JSONDecoder` or fail
    /// (false), or either (nil: an edge case whose only requirement is agreeing with `JSONDecoder`).
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let body: [UInt8]
        let fast: Bool?

        init(_ name: String, _ body: String, fast: Bool?) {
            self.init(name, Array(body.utf8), fast: fast)
        }

        init(_ name: String, _ body: [UInt8], fast: Bool?) {
            self.name = name
            self.body = body
            self.fast = fast
        }

        var testDescription: String { name }
    }

    static let portland =
        #"{"admin1":"Oregon","country":"US","latitude":45.5496,"longitude":-122.6743,"place":"Portland","postal_code":"97227","timezone":"America/Los_Angeles"}"#

    static let locationCases: [Case] = [
        Case("real answer", portland, fast: true),
        Case(
            "real answer, Berlin",
            #"{"admin1":"Berlin","country":"DE","latitude":52.5323,"longitude":13.3846,"place":"Berlin","postal_code":"10115","timezone":"Europe/Berlin"}"#,
            fast: true
        ),
        Case(
            "non-ASCII place",
            #"{"country":"DE","latitude":48.1372,"longitude":11.5755,"place":"München Ålesund 東京","postal_code":"80331","timezone":"Europe/Berlin"}"#,
            fast: true
        ),
        Case(
            "timezone null",
            #"{"country":"GB","latitude":51.5,"longitude":-0.12,"place":"London","postal_code":"SW1A","timezone":null}"#,
            fast: true
        ),
        Case("timezone missing", #"{"country":"GB","latitude":51.5,"longitude":-0.12,"place":"London","postal_code":"SW1A"}"#, fast: true),
        Case(
            "whitespace everywhere",
            " \n{ \"country\" : \"US\" ,\r\n\t\"latitude\": 45 , \"longitude\" :-122.6743,\"place\":\"P\",\"postal_code\":\"1\", \"x\" : true, \"y\": false } \n",
            fast: true
        ),
        Case("integer and negative zero coordinates", #"{"country":"US","latitude":-0,"longitude":0.0,"place":"P","postal_code":"1"}"#, fast: true),
        Case("long fraction", #"{"country":"US","latitude":45.549600000000000000001,"longitude":0.1,"place":"P","postal_code":"1"}"#, fast: true),
        Case("escaped string", #"{"country":"FR","latitude":45.4,"longitude":4.4,"place":"Saint-\u00c9tienne","postal_code":"42000"}"#, fast: false),
        Case("escaped slash", #"{"country":"DE","latitude":1,"longitude":2,"place":"B","postal_code":"1","timezone":"Europe\/Berlin"}"#, fast: false),
        Case("exponent", #"{"country":"US","latitude":4.55496e1,"longitude":-122.6743,"place":"P","postal_code":"1"}"#, fast: false),
        Case("unknown nested object", #"{"extra":{"a":[1,2]},"country":"US","latitude":1,"longitude":2,"place":"P","postal_code":"1"}"#, fast: false),
        Case("unknown array", #"{"tags":[1,"a"],"country":"US","latitude":1,"longitude":2,"place":"P","postal_code":"1"}"#, fast: false),
        Case("duplicate key", #"{"country":"US","country":"DE","latitude":1,"longitude":2,"place":"P","postal_code":"1"}"#, fast: false),
        Case(
            "huge number",
            #"{"country":"US","latitude":1"# + String(repeating: "0", count: 400) + #","longitude":2,"place":"P","postal_code":"1"}"#,
            fast: false
        ),
        Case("latitude as a string", #"{"country":"US","latitude":"45.5","longitude":2,"place":"P","postal_code":"1"}"#, fast: false),
        Case("place missing", #"{"country":"US","latitude":1,"longitude":2,"postal_code":"1"}"#, fast: false),
        Case("place null", #"{"country":"US","latitude":1,"longitude":2,"place":null,"postal_code":"1"}"#, fast: false),
        Case("leading zero", #"{"country":"US","latitude":045.1,"longitude":2,"place":"P","postal_code":"1"}"#, fast: false),
        Case("trailing comma", #"{"country":"US","latitude":1,"longitude":2,"place":"P","postal_code":"1",}"#, fast: false),
        Case("trailing garbage", portland + "x", fast: false),
        Case("two documents", portland + portland, fast: false),
        Case("truncated", String(portland.dropLast(3)), fast: false),
        Case("literal run on", #"{"country":"US","latitude":1,"longitude":2,"place":"P","postal_code":"1","timezone":nullx}"#, fast: false),
        Case("raw tab in a string", "{\"country\":\"US\",\"latitude\":1,\"longitude\":2,\"place\":\"a\tb\",\"postal_code\":\"1\"}", fast: false),
        Case("an array", "[" + portland + "]", fast: false),
        Case("empty body", "", fast: false),
        Case("an error body", #"{"error":{"code":"postal_code_not_found","message":"no postal code"}}"#, fast: false),
        Case(
            "invalid UTF-8",
            Array(#"{"country":"US","latitude":1,"longitude":2,"place":""#.utf8) + [0xC3, 0x28] + Array(#"","postal_code":"1"}"#.utf8),
            fast: false
        ),
        Case("fraction without digits", #"{"country":"US","latitude":1.,"longitude":2,"place":"P","postal_code":"1"}"#, fast: false),
        Case("plus sign", #"{"country":"US","latitude":+1,"longitude":2,"place":"P","postal_code":"1"}"#, fast: false),
    ]

    static let portlandSun =
        #"{"results":{"sunrise":"2026-06-21T05:21:52-07:00","sunset":"2026-06-21T21:03:21-07:00","solar_noon":"2026-06-21T13:12:37-07:00","day_length":56489,"civil_twilight_begin":"2026-06-21T04:43:47-07:00","civil_twilight_end":"2026-06-21T21:41:26-07:00","nautical_twilight_begin":"2026-06-21T03:52:48-07:00","nautical_twilight_end":"2026-06-21T22:32:25-07:00","astronomical_twilight_begin":"2026-06-21T02:43:15-07:00","astronomical_twilight_end":"2026-06-21T23:41:56-07:00"},"status":"OK","tzid":"America/Los_Angeles"}"#

    static let sunCases: [Case] = [
        Case("real answer", portlandSun, fast: true),
        Case(
            "real polar day",
            #"{"results":{"sunrise":null,"sunset":null,"solar_noon":"2026-06-21T10:59:25+00:00","day_length":86400,"civil_twilight_begin":null,"civil_twilight_end":null,"nautical_twilight_begin":null,"nautical_twilight_end":null,"astronomical_twilight_begin":null,"astronomical_twilight_end":null},"status":"OK","tzid":"UTC"}"#,
            fast: true
        ),
        Case("times missing", #"{"status":"OK","results":{"day_length":0,"sunrise":"a"}}"#, fast: true),
        Case("negative day length", #"{"results":{"day_length":-1},"status":"OK"}"#, fast: true),
        Case("other status", #"{"results":{"day_length":3},"status":"INVALID_DATE"}"#, fast: true),
        Case("sunrise-sunset.org error shape", #"{"results":"","status":"INVALID_REQUEST"}"#, fast: false),
        Case("day length with a fraction", #"{"results":{"day_length":56489.0},"status":"OK"}"#, fast: false),
        Case("day length exponent", #"{"results":{"day_length":5e4},"status":"OK"}"#, fast: false),
        Case("day length overflow", #"{"results":{"day_length":9223372036854775808},"status":"OK"}"#, fast: false),
        Case("day length as a string", #"{"results":{"day_length":"56489"},"status":"OK"}"#, fast: false),
        Case("day length missing", #"{"results":{"sunrise":null},"status":"OK"}"#, fast: false),
        Case("status missing", #"{"results":{"day_length":1}}"#, fast: false),
        Case("escaped time", #"{"results":{"day_length":1,"sunrise":"2026-06-21T05:21:52\u002d07:00"},"status":"OK"}"#, fast: false),
        Case("duplicate time", #"{"results":{"day_length":1,"sunrise":"a","sunrise":"b"},"status":"OK"}"#, fast: false),
        Case("sunrise a number", #"{"results":{"day_length":1,"sunrise":5},"status":"OK"}"#, fast: false),
        Case("truncated", String(portlandSun.dropLast(10)), fast: false),
        Case(
            "empty and non-ASCII times",
            #"{"results":{"day_length":1,"sunrise":"","sunset":"14 h ½ → Ω","solar_noon":null},"status":"OK"}"#,
            fast: true
        ),
        Case(
            "invalid UTF-8 that two times would make valid together",
            Array(#"{"results":{"day_length":1,"sunrise":"a"#.utf8) + [0xC3] + Array(#"","sunset":""#.utf8) + [0xA9]
                + Array(#"b"},"status":"OK"}"#.utf8),
            fast: false
        ),
    ]

    @Test(arguments: locationCases)
    func locationAgreesWithJSONDecoder(_ test: Case) {
        let foundation = try? JSONDecoder().decode(LocationRecord.self, from: Data(test.body))
        let fast = UpstreamDecoding.fastLocation(test.body)
        #expect(UpstreamDecoding.location(test.body) == foundation)
        if let fast { #expect(fast == foundation) }
        if let expected = test.fast { #expect((fast != nil) == expected) }
    }

    @Test(arguments: sunCases)
    func sunEnvelopeAgreesWithJSONDecoder(_ test: Case) {
        let foundation = try? JSONDecoder().decode(SunEnvelope.self, from: Data(test.body))
        let fast = UpstreamDecoding.fastSunEnvelope(test.body)
        #expect(UpstreamDecoding.sunEnvelope(test.body) == foundation)
        if let fast { #expect(fast == foundation) }
        if let expected = test.fast { #expect((fast != nil) == expected) }
    }

    @Test func realAnswersDecodeToTheirValues() throws {
        let place = try #require(UpstreamDecoding.fastLocation(Array(Self.portland.utf8)))
        #expect(
            place
                == LocationRecord(
                    postalCode: "97227",
                    country: "US",
                    place: "Portland",
                    latitude: 45.5496,
                    longitude: -122.6743,
                    timezone: "America/Los_Angeles"
                )
        )
        let sun = try #require(UpstreamDecoding.fastSunEnvelope(Array(Self.portlandSun.utf8)))
        #expect(sun.status == "OK")
        #expect(sun.results.dayLength == 56489)
        #expect(sun.results.sunrise == "2026-06-21T05:21:52-07:00")
        #expect(sun.results.astronomicalTwilightEnd == "2026-06-21T23:41:56-07:00")
    }
}
