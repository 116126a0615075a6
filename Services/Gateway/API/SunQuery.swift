import CityscapeKit
import Foundation
import HTTPTypes

/// The validated input of `GET /api/sun/{postal_code}/{country}`, parsed before any upstream call.
///
/// The postal code and country follow the location service's rules, so that what the gateway accepts
/// the location service accepts too, and a malformed request never costs an upstream call:
/// - country: trimmed, upper-cased, exactly two ASCII letters → else 400 `invalid_country`;
/// - postal code: trimmed, inner whitespace runs collapsed to one space, ASCII upper-cased, 1–16 ASCII
///   letters, digits, spaces or hyphens → else 400 `invalid_postal_code`;
/// - date: `YYYY-MM-DD`, a real calendar date in years 1–9999 → else 400 `invalid_date`; when absent,
///   today in UTC (resolved here, so the answer and the cache key name the day that was computed).
struct SunQuery: Sendable, Equatable {
    static let maximumPostalCodeLength = 16

    let postalCode: String
    let country: String
    /// `YYYY-MM-DD`.
    let date: String

    init(postalCode rawPostalCode: String, country rawCountry: String, date rawDate: String?, now: Date) throws(ServiceError) {
        country = try Self.country(rawCountry)
        postalCode = try Self.postalCode(rawPostalCode)
        date = try Self.date(rawDate, now: now)
    }

    // MARK: Rules

    static func country(_ raw: String) throws(ServiceError) -> String {
        let value = collapsed(raw)
        guard value.count == 2, value.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw ServiceError(
                .badRequest,
                code: "invalid_country",
                message: "country must be exactly two ASCII letters (ISO 3166-1 alpha-2 code such as US, DE or GB)"
            )
        }
        return value
    }

    static func postalCode(_ raw: String) throws(ServiceError) -> String {
        let value = collapsed(raw)
        let allowed = value.unicodeScalars.allSatisfy { scalar in
            ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == " " || scalar == "-"
        }
        guard (1...maximumPostalCodeLength).contains(value.unicodeScalars.count), allowed else {
            throw ServiceError(
                .badRequest,
                code: "invalid_postal_code",
                message: "postal code must be 1 to \(maximumPostalCodeLength) ASCII letters, digits, spaces or hyphens such as 97227 or SW1A 1AA"
            )
        }
        return value
    }

    static func date(_ raw: String?, now: Date) throws(ServiceError) -> String {
        guard let raw, !raw.isEmpty else {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents([.year, .month, .day], from: now)
            return format(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
        }
        let fields = raw.split(separator: "-", omittingEmptySubsequences: false)
        if fields.count == 3, fields[0].count == 4, fields[1].count == 2, fields[2].count == 2,
            fields.allSatisfy({ $0.unicodeScalars.allSatisfy { ("0"..."9").contains($0) } }),
            let year = Int(fields[0]), let month = Int(fields[1]), let day = Int(fields[2]),
            year >= 1, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        {
            return raw
        }
        throw ServiceError(
            .badRequest,
            code: "invalid_date",
            message: "date '\(displayed(raw))' is not a real date written YYYY-MM-DD, e.g. 2026-06-21"
        )
    }

    /// Trims whitespace, turns inner whitespace runs into one space and upper-cases ASCII letters only.
    private static func collapsed(_ raw: String) -> String {
        let words = raw.split(whereSeparator: { $0.isWhitespace })
        return words.joined(separator: " ").unicodeScalars.reduce(into: "") { result, scalar in
            result.unicodeScalars.append(("a"..."z").contains(scalar) ? Unicode.Scalar(UInt8(scalar.value) - 0x20) : scalar)
        }
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func format(year: Int, month: Int, day: Int) -> String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// Echoes at most 32 printable ASCII characters of client input into an error message.
    private static func displayed(_ raw: String) -> String {
        String(String.UnicodeScalarView(raw.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(32)))
    }
}
