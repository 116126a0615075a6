import Foundation
import Testing

@testable import GatewayService

/// The paths the gateway asks its upstreams for, written into one string each: the same text as the plain
/// interpolation they replace.
@Suite("Upstream paths")
struct UpstreamPathTests {
    @Test("the location path escapes a space in the postal code", arguments: [("97227", "US"), ("SW1A 1AA", "GB"), ("1010", "AT")])
    func locationPath(postalCode: String, country: String) {
        let expected = "/api/location/\(postalCode.replacingOccurrences(of: " ", with: "%20"))/\(country)"
        #expect(SunLookup.locationPath(postalCode: postalCode, country: country) == expected)
    }

    @Test(
        "the sun path asks for six decimals, the date and the zone unless it is UTC",
        arguments: [
            (45.5496, -122.6743, "2026-06-21", "America/Los_Angeles", "&tzid=America/Los_Angeles"),
            (-33.8688, 151.2093, "2026-12-06", "Etc/GMT+7", "&tzid=Etc/GMT%2B7"),
            (0.000001, -0.0000001, "0001-01-01", "UTC", ""),
            (89.9999999, 179.9999995, "9999-12-31", "America/Argentina/Buenos_Aires", "&tzid=America/Argentina/Buenos_Aires"),
        ]
    )
    func sunPath(latitude: Double, longitude: Double, date: String, zoneID: String, tzid: String) throws {
        let zone = try #require(zoneID == "UTC" ? AnswerZone.utc : AnswerZone(identifier: zoneID))
        let expected =
            "/json?lat=\(SunLookup.coordinate(latitude))&lng=\(SunLookup.coordinate(longitude))&date=\(date)&formatted=0\(tzid)"
        #expect(SunLookup.sunPath(latitude: latitude, longitude: longitude, date: date, zone: zone) == expected)
    }

    @Test(
        "coordinates in plain notation with six decimals",
        arguments: [(45.5496, "45.549600"), (-0.0000001, "0.000000"), (-122.6743, "-122.674300"), (1e-5, "0.000010")]
    )
    func coordinate(value: Double, text: String) {
        #expect(SunLookup.coordinate(value) == text)
    }
}
