import Testing

@testable import GatewayService

/// The packed sun times: each time reads back as given, absent and empty stay apart, equality is the times'.
@Suite("Sun times")
struct SunTimesTests {
    static let strings: [String?] = [
        "2026-06-21T05:21:52-07:00", nil, "", "München → 東京", "2026-06-21T21:41:26-07:00", nil, "x", "2026-06-21T02:43:15-07:00", nil,
    ]

    @Test("every time reads back as it was packed, in its own slot")
    func readsBack() {
        let times = SunTimes(dayLength: 56489, times: Self.strings)
        #expect(times.dayLength == 56489)
        for time in SunTimes.Time.allCases {
            #expect(times[time].map(String.init) == Self.strings[time.rawValue], "\(time)")
        }
        #expect(times.sunrise == "2026-06-21T05:21:52-07:00")
        #expect(times.sunset == nil)
        #expect(times.solarNoon == "")
        #expect(times.astronomicalTwilightEnd == nil)
    }

    @Test("the borrowed UTF-8 of each time is what was packed, nil where absent")
    func borrowedUTF8() {
        let times = SunTimes(dayLength: 1, times: Self.strings)
        let read: [[UInt8]?] = times.withUTF8 { time in SunTimes.Time.allCases.map { time($0).map(Array.init) } }
        #expect(read == Self.strings.map { $0.map { Array($0.utf8) } })
    }

    @Test("the named initializer packs the fields where their names say")
    func namedFields() {
        let times = SunTimes(
            sunrise: "a",
            sunset: "b",
            solarNoon: nil,
            dayLength: 3,
            civilTwilightBegin: "c",
            civilTwilightEnd: "",
            nauticalTwilightBegin: nil,
            nauticalTwilightEnd: "d",
            astronomicalTwilightBegin: "e",
            astronomicalTwilightEnd: "f"
        )
        #expect(times == SunTimes(dayLength: 3, times: ["a", "b", nil, "c", "", nil, "d", "e", "f"]))
        #expect(times.nauticalTwilightEnd == "d" && times.civilTwilightEnd == "" && times.solarNoon == nil)
    }

    @Test(
        "values differ when any time, its presence or the day length differs",
        arguments: [
            SunTimes(dayLength: 1, times: ["ab", nil, nil, nil, nil, nil, nil, nil, nil]),
            SunTimes(dayLength: 1, times: ["a", "b", nil, nil, nil, nil, nil, nil, nil]),
            SunTimes(dayLength: 1, times: ["ab", "", nil, nil, nil, nil, nil, nil, nil]),
            SunTimes(dayLength: 2, times: ["ab", nil, nil, nil, nil, nil, nil, nil, nil]),
            SunTimes(dayLength: 1, times: [nil, nil, nil, nil, nil, nil, nil, nil, "ab"]),
        ]
    )
    func differences(other: SunTimes) {
        let reference = SunTimes(dayLength: 1, times: ["ab", nil, nil, nil, nil, nil, nil, nil, nil])
        #expect((reference == other) == (reference.dayLength == other.dayLength && SunTimes.Time.allCases.allSatisfy { reference[$0] == other[$0] }))
    }

    @Test("the fast reader packs what the named fields pack")
    func fastPathPacksTheSame() throws {
        let body = #"{"results":{"sunrise":"r","sunset":null,"solar_noon":"n","day_length":7,"civil_twilight_end":"ce"},"status":"OK"}"#
        let fast = try #require(UpstreamDecoding.fastSunEnvelope(Array(body.utf8)))
        let named = SunTimes(
            sunrise: "r",
            sunset: nil,
            solarNoon: "n",
            dayLength: 7,
            civilTwilightBegin: nil,
            civilTwilightEnd: "ce",
            nauticalTwilightBegin: nil,
            nauticalTwilightEnd: nil,
            astronomicalTwilightBegin: nil,
            astronomicalTwilightEnd: nil
        )
        #expect(fast.results == named)
    }
}
