/// What the gateway keeps from the location service's answer.
struct LocationRecord: Decodable, Sendable, Equatable {
    /// The code as the data holds it, which may be a prefix of what was asked (`SW1A` for `SW1A 1AA`).
    let postalCode: String
    let country: String
    let place: String
    let latitude: Double
    let longitude: Double
    /// IANA zone id of the place; optional so that a location service from before zones answers in UTC.
    let timezone: String?

    enum CodingKeys: String, CodingKey {
        case postalCode = "postal_code"
        case country, place, latitude, longitude, timezone
    }
}

/// The whole `/json` body: the API reports success in `status` as well as in the HTTP status.
struct SunEnvelope: Decodable, Sendable, Equatable {
    let results: SunTimes
    let status: String
}

/// The error body every Cityscape service sends: `{"error":{"code":"...","message":"..."}}`.
struct UpstreamErrorBody: Decodable, Sendable {
    struct Detail: Decodable, Sendable {
        let code: String
        let message: String
    }

    let error: Detail
}
