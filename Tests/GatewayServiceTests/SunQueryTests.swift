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
            (" sw1a \t 1aa ", "gb", nil as String?, "SW1A 1AA", "GB", "2026-06-21"),
            ("97227", "US", "2024-02-29", "97227", "US", "2024-02-29"),
            ("100-0001", "jp", "2000-02-29", "100-0001", "JP", "2000-02-29"),
            ("1234567890123456", "NL", "9999-12-31", "1234567890123456", "NL", "9999-12-31"),
        ]
    )
    func valid(postal: String, country: String, date: String?, expectedPostal: String, expectedCountry: String, expectedDate: String) throws {
        let query = try SunQuery(postalCode: postal, country: country, date: date, now: Self.now)
        #expect(query.postalCode == expectedPostal)
        #expect(query.country == expectedCountry)
        #expect(query.date == expectedDate)
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
