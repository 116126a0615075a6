import CityscapeKit
import Foundation
import Testing

@testable import SunService

// MARK: - Reference table

/// One row of `Resources/sun-reference.tsv`, produced by `tools/sun-reference/generate.py` from JPL DE421 (skyfield)
/// or NREL SPA (pvlib) after 2053.
struct SunReferenceRow: Sendable, CustomTestStringConvertible {
    let latitude: Double
    let longitude: Double
    let date: CalendarDate
    let place: String
    /// Reference instants by event column name; `nil` = the event does not occur.
    let events: [String: Date?]
    let dayLength: TimeInterval
    /// Events whose presence the generator could not decide robustly (the Sun's extreme altitude within 0.01° of
    /// the threshold, or a non-monotonic half day); they are excluded from the comparison, see the README.
    let ambiguous: Set<String>

    var testDescription: String { "\(place) (\(latitude), \(longitude)) \(date.year)-\(date.month)-\(date.day)" }

    /// The event columns, in table order.
    static let eventColumns = [
        "solar_noon", "sunrise", "sunset", "civil_twilight_begin", "civil_twilight_end",
        "nautical_twilight_begin", "nautical_twilight_end", "astronomical_twilight_begin", "astronomical_twilight_end",
    ]

    static let tableURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/sun-reference.tsv")

    /// Parses the whole table; fails on any malformed line so a broken file cannot pass vacuously.
    static func loadAll() throws -> [SunReferenceRow] {
        let text = try String(contentsOf: tableURL, encoding: .utf8)
        var lines = text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let header = try #require(lines.first)
        lines.removeFirst()
        func column(_ name: String) throws -> Int { try #require(header.firstIndex(of: name), "missing column \(name)") }
        let lat = try column("lat"), lng = try column("lng"), date = try column("date"), dayLength = try column("day_length")
        let ambiguous = try column("ambiguous"), place = try column("place")
        let eventIndices = try eventColumns.map { ($0, try column($0)) }

        return try lines.map { fields in
            try #require(fields.count == header.count, "bad line: \(fields)")
            let dateParts = fields[date].split(separator: "-").compactMap { Int($0) }
            try #require(dateParts.count == 3)
            var events: [String: Date?] = [:]
            for (name, index) in eventIndices {
                if fields[index] == "-" {
                    events[name] = .some(nil)
                } else {
                    let time: Date = try #require(parseUTC(fields[index]), "bad time \(fields[index])")
                    events[name] = .some(time)
                }
            }
            return SunReferenceRow(
                latitude: try #require(Double(fields[lat])),
                longitude: try #require(Double(fields[lng])),
                date: try #require(CalendarDate(year: dateParts[0], month: dateParts[1], day: dateParts[2])),
                place: fields[place],
                events: events,
                dayLength: try #require(Double(fields[dayLength])),
                ambiguous: fields[ambiguous] == "-" ? [] : Set(fields[ambiguous].split(separator: ",").map(String.init))
            )
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS` as UTC with Foundation's calendar, independently of `CalendarDate`'s day count.
    static func parseUTC(_ text: String) -> Date? {
        let parts = text.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
        guard parts.count == 6 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4], second: parts[5])
        return calendar.date(from: components)
    }
}

/// The three accuracy bands of the brief: timing tolerance per band, presence/absence exact everywhere.
enum SunLatitudeBand: String, CaseIterable, Sendable {
    case upTo60 = "|lat| ≤ 60"
    case upTo72 = "60 < |lat| ≤ 72"
    case polar = "|lat| > 72"

    init(latitude: Double) {
        self = abs(latitude) <= 60 ? .upTo60 : abs(latitude) <= 72 ? .upTo72 : .polar
    }

    /// Maximum allowed |computed − reference| in seconds; `nil` = only presence is checked (grazing polar Sun).
    var tolerance: TimeInterval? {
        switch self {
        case .upTo60: 10
        case .upTo72: 15
        case .polar: nil
        }
    }
}

@Suite("SolarCalculator against the high-precision reference table")
struct SolarReferenceTests {
    @Test("every event matches the reference", arguments: SunLatitudeBand.allCases)
    func matchesReference(band: SunLatitudeBand) throws {
        let rows = try SunReferenceRow.loadAll().filter { SunLatitudeBand(latitude: $0.latitude) == band }
        try #require(rows.count >= 100, "too few reference rows in band \(band.rawValue)")
        var compared = 0
        for row in rows {
            let day = SolarCalculator.solarDay(latitude: row.latitude, longitude: row.longitude, on: row.date)
            for (name, computed) in zip(SunReferenceRow.eventColumns, events(of: day)) where !row.ambiguous.contains(name) {
                let expected = try #require(row.events[name])
                #expect((computed == nil) == (expected == nil), "\(name) presence, \(row.testDescription)")
                guard let computed, let expected, let tolerance = band.tolerance else { continue }
                let error = computed.timeIntervalSince(expected)
                #expect(abs(error) <= tolerance, "\(name) off by \(error) s, \(row.testDescription)")
                compared += 1
            }
            if row.ambiguous.isDisjoint(with: ["sunrise", "sunset"]) {
                // The reference's day length is rounded separately from its events, hence the extra second.
                let tolerance = (band.tolerance ?? 60) + 1
                #expect(abs(day.dayLength - row.dayLength) <= tolerance, "day length \(day.dayLength) vs \(row.dayLength), \(row.testDescription)")
            }
        }
        if band.tolerance != nil {
            #expect(compared >= rows.count * 4, "only \(compared) timed events compared in \(band.rawValue)")
        }
    }

    @Test("the table is the documented one: size, sources and few exclusions")
    func tableShape() throws {
        let rows = try SunReferenceRow.loadAll()
        #expect(rows.count >= 700)
        let excluded = rows.reduce(0) { $0 + $1.ambiguous.count }
        // Exclusions are for grazing-Sun presence only; they must stay rare or the table stops proving anything.
        #expect(excluded * 100 <= rows.count * SunReferenceRow.eventColumns.count)
        #expect(rows.contains { $0.date.year == 1900 } && rows.contains { $0.date.year == 2100 })
        #expect(rows.contains { $0.longitude >= 179.9 } && rows.contains { $0.longitude <= -179.9 })
    }

    @Test("morning events precede noon and evening events follow it, in twilight order")
    func eventOrder() throws {
        for row in try SunReferenceRow.loadAll() {
            let day = SolarCalculator.solarDay(latitude: row.latitude, longitude: row.longitude, on: row.date)
            let morning = [day.astronomicalTwilightBegin, day.nauticalTwilightBegin, day.civilTwilightBegin, day.sunrise, day.solarNoon]
            let evening = [day.solarNoon, day.sunset, day.civilTwilightEnd, day.nauticalTwilightEnd, day.astronomicalTwilightEnd]
            for sequence in [morning, evening] {
                let present = sequence.compactMap { $0 }
                #expect(present == present.sorted(), "\(row.testDescription)")
            }
        }
    }

    private func events(of day: SolarDay) -> [Date?] {
        [
            day.solarNoon, day.sunrise, day.sunset, day.civilTwilightBegin, day.civilTwilightEnd,
            day.nauticalTwilightBegin, day.nauticalTwilightEnd, day.astronomicalTwilightBegin, day.astronomicalTwilightEnd,
        ]
    }
}

// MARK: - Focused cases

@Suite("SolarCalculator focused cases")
struct SolarCalculatorTests {
    private static func utc(_ text: String) throws -> Date {
        try #require(SunReferenceRow.parseUTC(text))
    }

    private static func day(_ latitude: Double, _ longitude: Double, _ year: Int, _ month: Int, _ day: Int) throws -> SolarDay {
        SolarCalculator.solarDay(latitude: latitude, longitude: longitude, on: try #require(CalendarDate(year: year, month: month, day: day)))
    }

    @Test("Málaga on 2015-05-21, the sunrise-sunset.org documentation sample")
    func malaga() throws {
        let day = try Self.day(36.7201600, -4.4203400, 2015, 5, 21)
        // DE421 via skyfield (tools/sun-reference/generate.py) for these exact coordinates, to the millisecond.
        let expected: [(Date?, String, TimeInterval)] = [
            (day.sunrise, "2015-05-21T05:06:12", 0.523), (day.sunset, "2015-05-21T19:22:43", 0.410),
            (day.solarNoon, "2015-05-21T12:14:15", 0.020), (day.civilTwilightBegin, "2015-05-21T04:36:55", 0.152),
            (day.astronomicalTwilightEnd, "2015-05-21T21:07:33", 0.140),
        ]
        for (computed, reference, milliseconds) in expected {
            let computed = try #require(computed)
            let error = computed.timeIntervalSince(try Self.utc(reference).addingTimeInterval(milliseconds))
            #expect(abs(error) <= 1, "\(computed) vs \(reference)")
        }
        #expect(abs(day.dayLength - 51_390.887) <= 1)
    }

    @Test("polar day at 78°N in June: no sunrise, sunset or twilight, day length 86400")
    func polarDay() throws {
        let day = try Self.day(78, 15, 2024, 6, 21)
        let missing = [
            day.sunrise, day.sunset, day.civilTwilightBegin, day.civilTwilightEnd,
            day.nauticalTwilightBegin, day.nauticalTwilightEnd, day.astronomicalTwilightBegin, day.astronomicalTwilightEnd,
        ]
        #expect(missing.allSatisfy { $0 == nil })
        #expect(day.dayLength == 86_400)
        // Transit at 15°E is near 11:00 UTC (minus the equation of time).
        #expect(abs(day.solarNoon.timeIntervalSince(try Self.utc("2024-06-21T11:00:00"))) < 300)
    }

    @Test("polar night at 78°N in December: no sunrise or civil twilight, but nautical and astronomical twilight")
    func polarNight() throws {
        // Noon altitude ≈ 90 − 78 − 23.44 = −11.4°: above −12° and −18°, below −6°.
        let day = try Self.day(78, 15, 2024, 12, 21)
        #expect(day.sunrise == nil && day.sunset == nil)
        #expect(day.civilTwilightBegin == nil && day.civilTwilightEnd == nil)
        let begin = try #require(day.nauticalTwilightBegin)
        let end = try #require(day.nauticalTwilightEnd)
        #expect(begin < day.solarNoon && day.solarNoon < end)
        #expect(day.astronomicalTwilightBegin != nil && day.astronomicalTwilightEnd != nil)
        #expect(day.dayLength == 0)
    }

    @Test("midnight sun starts and ends with one-sided days measured within noon ± 12 h")
    func midnightSunEdges() throws {
        // Tromsø: the Sun stops setting around 20 May and stops rising-from-below around 22 July. On the first
        // day it rises but does not set, on the last it sets but has not risen within the solar day.
        var riseOnly: [SolarDay] = []
        var setOnly: [SolarDay] = []
        for (month, days) in [(5, 1...31), (6, 1...30), (7, 1...31), (8, 1...10)] {
            for dayOfMonth in days {
                let day = try Self.day(69.65, 18.96, 2024, month, dayOfMonth)
                if day.sunrise != nil, day.sunset == nil { riseOnly.append(day) }
                if day.sunrise == nil, day.sunset != nil { setOnly.append(day) }
            }
        }
        try #require(riseOnly.count == 1 && setOnly.count == 1, "\(riseOnly.count) rise-only, \(setOnly.count) set-only days")
        let first = riseOnly[0], last = setOnly[0]
        let sunrise = try #require(first.sunrise), sunset = try #require(last.sunset)
        #expect(abs(first.dayLength - (first.solarNoon.timeIntervalSince(sunrise) + 43_200)) < 0.001)
        #expect(abs(last.dayLength - (sunset.timeIntervalSince(last.solarNoon) + 43_200)) < 0.001)
        #expect((0...86_400).contains(first.dayLength) && (0...86_400).contains(last.dayLength))
        #expect(first.solarNoon < last.solarNoon)
    }

    @Test("at longitude ±179.9 the day is the one centred on local mean noon", arguments: [179.9, -179.9])
    func dateLineWindow(longitude: Double) throws {
        let date = try #require(CalendarDate(year: 2024, month: 3, day: 20))
        let day = SolarCalculator.solarDay(latitude: -16.5, longitude: longitude, on: date)
        let midnight = try Self.utc("2024-03-20T00:00:00")
        let windowStart = midnight.addingTimeInterval(-longitude * 240)
        #expect(day.solarNoon >= windowStart && day.solarNoon < windowStart.addingTimeInterval(86_400))
        let sunrise = try #require(day.sunrise)
        let sunset = try #require(day.sunset)
        #expect(sunrise < day.solarNoon && day.solarNoon < sunset)
        if longitude > 0 {
            // Noon ≈ 2024-03-20 00:00 UTC, so the sunrise falls on the previous UTC date.
            #expect(sunrise < midnight)
            #expect(abs(day.solarNoon.timeIntervalSince(midnight)) < 1_200)
        } else {
            // Noon ≈ 2024-03-21 00:00 UTC, so the sunset falls on the next UTC date.
            #expect(sunset > midnight.addingTimeInterval(86_400))
            #expect(abs(day.solarNoon.timeIntervalSince(midnight.addingTimeInterval(86_400))) < 1_200)
        }
    }

    @Test("consecutive dates give consecutive solar days, none skipped or repeated", arguments: [-180.0, -179.9, 0, 179.9, 180])
    func consecutiveDays(longitude: Double) throws {
        var date = try #require(CalendarDate(year: 2023, month: 12, day: 25))
        var previous = SolarCalculator.solarDay(latitude: 40, longitude: longitude, on: date).solarNoon
        for _ in 0..<400 {
            let next = Date(timeIntervalSince1970: Double(date.daysSinceUnixEpoch + 1) * 86_400)
            let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: next)
            date = try #require(CalendarDate(year: parts.year!, month: parts.month!, day: parts.day!))
            let noon = SolarCalculator.solarDay(latitude: 40, longitude: longitude, on: date).solarNoon
            // Apparent solar days last 24 h − 22 s … 24 h + 30 s.
            #expect(abs(noon.timeIntervalSince(previous) - 86_400) < 40, "\(date)")
            previous = noon
        }
    }

    static let extremePlaces: [[Double]] = [
        [90, 0], [-90, 180], [90, -180], [89.999, 45], [0, 180], [-66.5, -180], [0, 0], [.nan, .infinity], [1_000, -1_000],
    ]
    static let extremeDates: [[Int]] = [[1, 1, 1], [1900, 1, 1], [2000, 3, 20], [2100, 12, 31], [9999, 12, 31]]

    @Test("extreme inputs terminate with consistent results", arguments: extremePlaces, extremeDates)
    func extremes(place: [Double], ymd: [Int]) throws {
        let date = try #require(CalendarDate(year: ymd[0], month: ymd[1], day: ymd[2]))
        let day = SolarCalculator.solarDay(latitude: place[0], longitude: place[1], on: date)
        #expect(day.solarNoon.timeIntervalSince1970.isFinite)
        #expect((0...86_400).contains(day.dayLength))
        let pairs = [
            (day.sunrise, day.sunset), (day.civilTwilightBegin, day.civilTwilightEnd),
            (day.nauticalTwilightBegin, day.nauticalTwilightEnd), (day.astronomicalTwilightBegin, day.astronomicalTwilightEnd),
        ]
        for (begin, end) in pairs {
            if let begin { #expect(begin < day.solarNoon && day.solarNoon.timeIntervalSince(begin) <= 43_300) }
            if let end { #expect(end > day.solarNoon && end.timeIntervalSince(day.solarNoon) <= 43_300) }
        }
    }

    @Test("at the North Pole the events follow the declination alone")
    func northPole() throws {
        // Around the March equinox the Sun rises at the pole; it is up all June and down all December.
        #expect(try Self.day(90, 0, 2024, 6, 21).dayLength == 86_400)
        #expect(try Self.day(90, 0, 2024, 12, 21).dayLength == 0)
        #expect(try Self.day(-90, 0, 2024, 6, 21).dayLength == 0)
    }
}

@Suite("CalendarDate")
struct CalendarDateTests {
    static let invalidDates: [[Int]] = [
        [2023, 2, 29], [2023, 2, 30], [2100, 2, 29], [2024, 4, 31], [2024, 13, 1], [2024, 0, 1], [2024, 1, 0], [0, 1, 1], [10_000, 1, 1],
    ]

    @Test("rejects dates that do not exist", arguments: invalidDates)
    func invalid(ymd: [Int]) {
        #expect(CalendarDate(year: ymd[0], month: ymd[1], day: ymd[2]) == nil)
    }

    @Test("accepts leap days of the proleptic Gregorian calendar", arguments: [2000, 2024, 1600, 4])
    func leapDays(year: Int) {
        #expect(CalendarDate(year: year, month: 2, day: 29) != nil)
    }

    @Test("counts days from 1970-01-01 like Foundation's Gregorian calendar")
    func dayCount() throws {
        #expect(try #require(CalendarDate(year: 1970, month: 1, day: 1)).daysSinceUnixEpoch == 0)
        #expect(try #require(CalendarDate(year: 2000, month: 3, day: 1)).daysSinceUnixEpoch == 11_017)
        #expect(try #require(CalendarDate(year: 1900, month: 1, day: 1)).daysSinceUnixEpoch == -25_567)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for dayNumber in stride(from: -25_567, through: 47_847, by: 97) {
            let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(dayNumber) * 86_400))
            let date = try #require(CalendarDate(year: parts.year!, month: parts.month!, day: parts.day!))
            #expect(date.daysSinceUnixEpoch == dayNumber)
        }
    }

    @Test("orders chronologically")
    func ordering() throws {
        let a = try #require(CalendarDate(year: 1999, month: 12, day: 31))
        let b = try #require(CalendarDate(year: 2000, month: 1, day: 1))
        let c = try #require(CalendarDate(year: 2000, month: 2, day: 1))
        #expect(a < b && b < c && !(c < a))
        #expect([c, a, b].sorted() == [a, b, c])
    }
}
