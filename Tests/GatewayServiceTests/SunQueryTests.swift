import CityscapeKit
import Foundation
import HTTPTypes
import Testing

@testable import GatewayService

@Suite("Gateway input validation")
struct SunQueryTests {
    static let now = Date(timeIntervalSince1970: 1_782_000_000)  // 2026-06-21T00:40:00Z

    @Test(
        "valid input is normalised like the location service does",
        arguments: [
            (" sw1a \t 1aa ", "gb", nil as String?, "SW1A 1AA", "GB", nil as String?),
            ("97227", "US", "2024-02-29", "97227", "US", "2024-02-29"),
            ("100-0001", "jp", "2000-02-29", "100-0001", "JP", "2000-02-29"),
            ("1234567890123456", "NL", "9999-12-31", "1234567890123456", "NL", "9999-12-31"),
        ]
    )
    func valid(postal: String, country: String, date: String?, expectedPostal: String, expectedCountry: String, expectedDate: String?) throws {
        let query = try SunQuery(postalCode: postal, country: country, date: date, now: Self.now)
        #expect(query.postalCode == expectedPostal)
        #expect(query.country == expectedCountry)
        // No date: today, resolved once the place's zone is known.
        #expect(query.date?.iso8601 == expectedDate)
        #expect(query.zone == nil)
        #expect(query.now == Self.now)
    }

    @Test(
        "tz is utc or an IANA id of the list",
        arguments: [
            ("utc", "UTC"), ("UTC", "UTC"), ("Europe/Paris", "Europe/Paris"),
            ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
            ("Pacific/Apia", "Pacific/Apia"), ("America/St_Johns", "America/St_Johns"),
            ("Asia/Kolkata", "Asia/Kolkata"), ("Etc/GMT+7", "Etc/GMT+7"),
        ]
    )
    func validZone(raw: String, identifier: String) throws {
        let query = try SunQuery(postalCode: "97227", country: "US", date: nil, tz: raw, now: Self.now)
        #expect(query.zone?.identifier == identifier)
        #expect(
            query.zone?.timeZone.secondsFromGMT(for: Self.now)
                == TimeZone(identifier: identifier == "UTC" ? "GMT" : identifier)?.secondsFromGMT(for: Self.now)
        )
    }

    @Test(
        "an unknown or malformed tz is 400 invalid_timezone",
        arguments: [
            "Utc", "GMT+2", "US/Pacific", "Europe/Pariss", "Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime",
            "Europe//Paris", "Europe/Paris/", "1Europe", "Europe/Par is",
            "Europe%2FParis", String(repeating: "A", count: 65),
        ]
    )
    func invalidZone(raw: String) {
        #expect {
            try SunQuery(postalCode: "97227", country: "US", date: nil, tz: raw, now: Self.now)
        } throws: { error in
            (error as? ServiceError)?.code == "invalid_timezone" && (error as? ServiceError)?.status == .badRequest
        }
    }

    @Test(
        "invalid input names the field",
        arguments: [
            ("97227", "USA", nil as String?, "invalid_country"),
            ("97227", "", nil, "invalid_country"),
            ("97227", "Ü1", nil, "invalid_country"),
            ("", "US", nil, "invalid_postal_code"),
            ("12345678901234567", "US", nil, "invalid_postal_code"),
            ("9722!", "US", nil, "invalid_postal_code"),
            ("straße", "DE", nil, "invalid_postal_code"),
            ("97227", "US", "2023-02-29", "invalid_date"),
            ("97227", "US", "2026-13-01", "invalid_date"),
            ("97227", "US", "2026-6-1", "invalid_date"),
            ("97227", "US", "0000-01-01", "invalid_date"),
            ("97227", "US", "today", "invalid_date"),
            ("97227", "US", "2026-06-21T00:00", "invalid_date"),
        ]
    )
    func invalid(postal: String, country: String, date: String?, code: String) {
        #expect {
            try SunQuery(postalCode: postal, country: country, date: date, now: Self.now)
        } throws: { error in
            (error as? ServiceError)?.code == code && (error as? ServiceError)?.status == .badRequest
        }
    }
}

@Suite("Coordinates in upstream URLs and cache keys")
struct CoordinateFormattingTests {
    @Test("formats like %.6f for every coordinate the data can hold")
    func matchesPrintf() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 90, -90, 180, -180, 45.5496, -122.6743, 0.0000004, -0.0000004, 1e-7, 12.3456785]
        for _ in 0..<20_000 {
            // Data coordinates have at most 4–6 decimals: test those and arbitrary doubles alike.
            values.append((Double.random(in: -180...180, using: &generator) * 10_000).rounded() / 10_000)
            values.append(Double.random(in: -180...180, using: &generator))
        }
        for value in values {
            let expected = String(format: "%.6f", value)
            let actual = SunLookup.coordinate(value)
            // Both are correct roundings of the same value; they may differ only where it sits on a half-way point.
            if actual != expected {
                #expect(abs(Double(actual)! - Double(expected)!) <= 1e-6 + 1e-12, "\(value): \(actual) vs \(expected)")
            }
        }
        #expect(SunLookup.coordinate(45.5496) == "45.549600")
        #expect(SunLookup.coordinate(-122.6743) == "-122.674300")
        #expect(SunLookup.coordinate(-0.0000004) == "0.000000")
    }
}
