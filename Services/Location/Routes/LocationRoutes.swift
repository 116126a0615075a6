import CityscapeKit
import Foundation
import Hummingbird

/// `GET /api/location/{postal_code}/{country}`.
struct LocationRoutes: Sendable {
    static let path: RouterPath = "/api/location/:postal_code/:country"
    let index: PostalIndex

    func addRoutes(to router: some RouterMethods<CityscapeRequestContext>) {
        router.get(Self.path, use: lookup)
    }

    @Sendable func lookup(_ request: Request, context: CityscapeRequestContext) throws -> LocationResponse {
        let postalCode = try context.decodedParameter("postal_code", errorCode: "invalid_postal_code")
        let country = try context.decodedParameter("country", errorCode: "invalid_country")
        let query: PostalQuery
        do {
            query = try PostalQuery(postalCode: postalCode, country: country)
        } catch {
            throw error.serviceError
        }
        guard let record = index.lookup(query) else {
            throw ServiceError(
                .notFound,
                code: "postal_code_not_found",
                message: "no postal code '\(query.postalCode)' in country '\(query.country)' (GeoNames data, 121 countries)"
            )
        }
        return LocationResponse(record)
    }
}

/// The answer of the location API.
///
/// Written with `JSONWriter` (keys in sorted order, as `JSONEncoder` with `.sortedKeys` writes them) rather
/// than through `JSONEncoder`, whose reflection-based encoding is the largest cost of this route. `Codable`
/// stays for tests, which compare the two.
struct LocationResponse: ResponseGenerator, Codable, Equatable {
    /// The code as the data holds it, which may be the prefix of what was asked (`SW1A` for `SW1A 1AA`).
    let postalCode: String
    let country: String
    let place: String
    let admin1: String
    let latitude: Double
    let longitude: Double
    /// IANA zone id of the place, e.g. `Europe/Paris`.
    let timezone: String

    init(_ record: PostalRecord) {
        postalCode = record.postalCode
        country = record.country
        place = record.place
        admin1 = record.admin1
        latitude = record.latitude
        longitude = record.longitude
        timezone = record.timeZone
    }

    func response(from request: Request, context: some RequestContext) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: json())))
    }

    /// The body: the fields in sorted key order.
    func json() -> [UInt8] {
        var json = JSONWriter(capacity: 192)
        json.beginObject()
        json.key(CodingKeys.admin1.rawValue)
        json.string(admin1)
        json.key(CodingKeys.country.rawValue)
        json.string(country)
        json.key(CodingKeys.latitude.rawValue)
        json.number(latitude)
        json.key(CodingKeys.longitude.rawValue)
        json.number(longitude)
        json.key(CodingKeys.place.rawValue)
        json.string(place)
        json.key(CodingKeys.postalCode.rawValue)
        json.string(postalCode)
        json.key(CodingKeys.timezone.rawValue)
        json.string(timezone)
        json.endObject()
        return json.bytes
    }

    enum CodingKeys: String, CodingKey {
        case postalCode = "postal_code"
        case country, place, admin1, latitude, longitude, timezone
    }
}
