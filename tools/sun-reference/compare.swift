import Foundation

/// Measures `SolarCalculator` against a reference table and prints the worst error per latitude band and event.
///
/// Not part of any target. Build and run from the repository root:
///
///     swiftc -swift-version 6 -O -parse-as-library Services/Sun/Solar/*.swift tools/sun-reference/compare.swift -o /tmp/sun-compare
///     /tmp/sun-compare Tests/SunServiceTests/Resources/sun-reference.tsv
///
/// It reads both the committed table (whole seconds) and the `--fractional` one (milliseconds), which separates the
/// algorithm's error from the table's ±0.5 s rounding.
@main
struct CompareWithReference {
    static let events = [
        "solar_noon", "sunrise", "sunset", "civil_twilight_begin", "civil_twilight_end",
        "nautical_twilight_begin", "nautical_twilight_end", "astronomical_twilight_begin", "astronomical_twilight_end",
    ]

    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        let path = arguments.first { !$0.hasPrefix("-") } ?? "Tests/SunServiceTests/Resources/sun-reference.tsv"
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        let header = lines.removeFirst()
        let column = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })

        var worst: [String: [String: (error: Double, row: String)]] = [:]
        var timed = 0
        var excluded = 0
        var presenceMismatches = 0
        let clock = ContinuousClock()
        var computing = Duration.zero
        for fields in lines {
            let latitude = Double(fields[column["lat"]!])!
            let longitude = Double(fields[column["lng"]!])!
            let ymd = fields[column["date"]!].split(separator: "-").map { Int($0)! }
            let date = CalendarDate(year: ymd[0], month: ymd[1], day: ymd[2])!
            var result: SolarDay?
            computing += clock.measure { result = SolarCalculator.solarDay(latitude: latitude, longitude: longitude, on: date) }
            let day = result!
            let computed = [
                day.solarNoon, day.sunrise, day.sunset, day.civilTwilightBegin, day.civilTwilightEnd,
                day.nauticalTwilightBegin, day.nauticalTwilightEnd, day.astronomicalTwilightBegin, day.astronomicalTwilightEnd,
            ]
            let ambiguous = Set(fields[column["ambiguous"]!].split(separator: ",").map(String.init))
            let band = abs(latitude) <= 60 ? "|lat| <= 60" : abs(latitude) <= 72 ? "60 < |lat| <= 72" : "|lat| > 72"
            let label = "\(latitude) \(longitude) \(fields[column["date"]!]) \(fields[column["place"]!])"
            for (name, mine) in zip(events, computed) {
                if ambiguous.contains(name) {
                    excluded += 1
                    continue
                }
                let reference = parse(fields[column[name]!])
                if (reference == nil) != (mine == nil) {
                    presenceMismatches += 1
                    print("presence mismatch: \(name) \(label): reference \(fields[column[name]!]), computed \(mine.map { "\($0)" } ?? "-")")
                }
                guard let reference, let mine else { continue }
                timed += 1
                record(mine.timeIntervalSince1970 - reference, band: band, key: name, row: label, into: &worst)
            }
            if ambiguous.isDisjoint(with: ["sunrise", "sunset"]) {
                record(day.dayLength - Double(fields[column["day_length"]!])!, band: band, key: "day_length", row: label, into: &worst)
            }
        }

        print("rows \(lines.count), events \(lines.count * events.count), timed \(timed), excluded (ambiguous) \(excluded),", terminator: " ")
        print("presence mismatches \(presenceMismatches)")
        print("compute time \(computing) (\(computing / lines.count) per solar day)")
        for band in ["|lat| <= 60", "60 < |lat| <= 72", "|lat| > 72"] {
            guard let table = worst[band] else { continue }
            let overall = events.compactMap { table[$0]?.error }.map(abs).max() ?? 0
            print("\(band): max |error| \(String(format: "%.2f", overall)) s over all events")
            for key in events + ["day_length"] {
                guard let entry = table[key] else { continue }
                let name = key.padding(toLength: 28, withPad: " ", startingAt: 0)
                print("    \(name) \(String(format: "%+7.2f", entry.error)) s  \(entry.row)")
            }
        }
    }

    /// Keeps the largest |error| per band and event.
    static func record(_ error: Double, band: String, key: String, row: String, into worst: inout [String: [String: (error: Double, row: String)]]) {
        if abs(error) >= abs(worst[band]?[key]?.error ?? 0) {
            worst[band, default: [:]][key] = (error, row)
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff]` as Unix seconds (UTC), `nil` for `-`.
    static func parse(_ text: String) -> Double? {
        guard text != "-" else { return nil }
        let parts = text.split(whereSeparator: { "-T:".contains($0) })
        let ymd = parts[0..<3].map { Int($0)! }
        let date = CalendarDate(year: ymd[0], month: ymd[1], day: ymd[2])!
        return Double(date.daysSinceUnixEpoch) * 86_400 + Double(parts[3])! * 3600 + Double(parts[4])! * 60 + Double(parts[5])!
    }
}
