import CityscapeKit
import Foundation
import HTTPTypes

/// The validated input of `GET /api/sun/{postal_code}/{country}`, parsed before any upstream call.
///
/// The postal code and country go through the location service's own `PostalQuery` (CityscapeKit), so
/// what the gateway accepts the location service accepts too, and a malformed request never costs an
/// upstream call (400 `invalid_country` / `invalid_postal_code`). The date is a `CalendarDate`:
/// `YYYY-MM-DD`, a real day in years 1–9999, else 400 `invalid_date`; when absent, today in UTC (resolved
/// here, so the answer and the cache key name the day that was computed).
struct SunQuery: Sendable, Equatable {
    let postalCode: String
    let country: String
    /// `YYYY-MM-DD`.
    let date: String

    init(postalCode rawPostalCode: String, country rawCountry: String, date rawDate: String?, now: Date) throws(ServiceError) {
        let postal: PostalQuery
        do {
            postal = try PostalQuery(postalCode: rawPostalCode, country: rawCountry)
        } catch {
            throw error.serviceError
        }
        country = postal.country
        postalCode = postal.postalCode
        date = try Self.date(rawDate, now: now)
    }

    static func date(_ raw: String?, now: Date) throws(ServiceError) -> String {
        guard let raw, !raw.isEmpty else { return CalendarDate(utcDayOf: now).iso8601 }
        guard let date = CalendarDate(iso8601: raw) else {
            throw ServiceError(
                .badRequest,
                code: "invalid_date",
                message: "date '\(displayed(raw))' is not a real date written YYYY-MM-DD, e.g. 2026-06-21"
            )
        }
        return date.iso8601
    }

    /// Echoes at most 32 printable ASCII characters of client input into an error message.
    private static func displayed(_ raw: String) -> String {
        String(String.UnicodeScalarView(raw.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(32)))
    }
}
