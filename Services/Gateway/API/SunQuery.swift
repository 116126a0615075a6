import CityscapeKit
import Foundation
import HTTPTypes

/// The validated input of `GET /api/sun/{postal_code}/{country}`, parsed before any upstream call.
///
/// The postal code and country go through the location service's own `PostalQuery` (CityscapeKit), so
/// what the gateway accepts the location service accepts too, and a malformed request never costs an
/// upstream call (400 `invalid_country` / `invalid_postal_code`). The date is a `CalendarDate`:
/// `YYYY-MM-DD`, a real day in years 1–9999, else 400 `invalid_date`; when absent, today at the place,
/// which needs the place's zone and is resolved by ``SunLookup`` from `now`. `tz` is `utc` or an IANA zone
/// id of `TimeZoneNames.accepted` (the sun service's `tzid` list, which the OpenAPI document enumerates),
/// else 400 `invalid_timezone`; when absent, the place's own zone.
struct SunQuery: Sendable, Equatable {
    let postalCode: String
    let country: String
    /// The calendar day in the answer's zone; nil for today at the place.
    let date: CalendarDate?
    /// The zone asked for with `tz`; nil for the place's own zone.
    let zone: AnswerZone?
    /// When the request arrived: "today" is resolved against it.
    let now: Date

    init(postalCode rawPostalCode: String, country rawCountry: String, date rawDate: String?, tz rawZone: String? = nil, now: Date)
        throws(ServiceError)
    {
        let postal: PostalQuery
        do {
            postal = try PostalQuery(postalCode: rawPostalCode, country: rawCountry)
        } catch {
            throw error.serviceError
        }
        country = postal.country
        postalCode = postal.postalCode
        date = try Self.date(rawDate)
        zone = try Self.zone(rawZone)
        self.now = now
    }

    static func date(_ raw: String?) throws(ServiceError) -> CalendarDate? {
        guard let raw, !raw.isEmpty else { return nil }
        guard let date = CalendarDate(iso8601: raw) else {
            throw ServiceError(
                .badRequest,
                code: "invalid_date",
                message: "date '\(displayed(raw))' is not a real date written YYYY-MM-DD, e.g. 2026-06-21"
            )
        }
        return date
    }

    static func zone(_ raw: String?) throws(ServiceError) -> AnswerZone? {
        guard let raw, !raw.isEmpty else { return nil }
        if raw == "utc" || raw == "UTC" { return .utc }
        guard let zone = AnswerZone(identifier: raw) else {
            throw ServiceError(
                .badRequest,
                code: "invalid_timezone",
                message: "tz '\(displayed(raw))' is not utc or an IANA time zone id of the list, such as Europe/Paris"
            )
        }
        return zone
    }

    /// Echoes at most 32 printable ASCII characters of client input into an error message.
    private static func displayed(_ raw: String) -> String {
        String(String.UnicodeScalarView(raw.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(32)))
    }
}

/// The zone an answer is written in: its IANA id as the answer names it, and the rules behind it.
struct AnswerZone: Sendable, Equatable {
    let identifier: String
    let timeZone: TimeZone

    static let utc = AnswerZone(checked: "UTC", TimeZone(secondsFromGMT: 0)!)

    private init(checked identifier: String, _ timeZone: TimeZone) {
        self.identifier = identifier
        self.timeZone = timeZone
    }

    /// nil unless `identifier` is one of the accepted zone ids (``TimeZoneNames/accepted``, the list the sun service
    /// renders). The list is checked before Foundation sees the id, because Foundation maps ids to paths under
    /// /usr/share/zoneinfo, so `../../dev/zero` must never reach it.
    init?(identifier: String) {
        guard TimeZoneNames.accepted.contains(identifier), let timeZone = TimeZone(identifier: identifier) else { return nil }
        self.init(checked: identifier, timeZone)
    }

    /// The zone of the place as the location service names it; UTC when it names none this system knows.
    init(place identifier: String?) {
        self = identifier.flatMap(AnswerZone.init(identifier:)) ?? .utc
    }

    var isUTC: Bool { identifier == "UTC" }
}
