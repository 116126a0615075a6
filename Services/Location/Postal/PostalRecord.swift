/// One row of the postal code table, decoded only when a lookup hits it.
///
/// `postalCode` is the code as the data stores it, which can differ from what the caller typed: a query for
/// `SW1A 1AA` answers with the GB outward code `SW1A`, a query for JP `1000001` with `100-0001`.
struct PostalRecord: Sendable, Equatable {
    /// ISO 3166-1 alpha-2 code, upper-case.
    let country: String
    /// The code as published in the data (GeoNames spelling: spaces, hyphens and truncation kept).
    let postalCode: String
    /// First place listed for the code in the GeoNames release; not necessarily the best-known town.
    let place: String
    /// First-level administrative division in the country's GeoNames spelling; empty for some countries (SG, ZA, AE).
    let admin1: String
    /// WGS84 degrees; the mean of the code's source rows, rounded to 4 decimals by the data build.
    let latitude: Double
    /// WGS84 degrees; the mean of the code's source rows, rounded to 4 decimals by the data build.
    let longitude: Double
    /// IANA zone id (`Europe/Paris`) of the code's point, from timezone-boundary-builder (Data/postal/ATTRIBUTION.md).
    let timeZone: String
}
