import Foundation
import Testing

@testable import SunService

/// The sun document's query parameters say exactly what the service accepts: each value below is accepted
/// by the document's pattern or enum if and only if `SunTimesRequest` accepts it.
///
/// schemathesis (`make fuzz-api`) probes the same agreement with generated values on the live service; this
/// table pins the edges (bounds, leap days, empty values, near misses) so a change to either side that
/// breaks it fails here first, with the value named.
@Suite("The sun document's parameters match what the service accepts")
struct SunParameterTests {
    static let samples: [String: [String]] = [
        "lat": [
            "0", "45.5496", "-90", "+90", "90.", "90.000", "90.0001", "-.5", ".5", "5.", "0090", "000.1", "89.99999999999999999999",
            "90.000000000000000000001", "91", "100", "-", ".", "1.2.3", "1e3", "nan", "inf", "0x1p3", " 1", "1 ", "",
            "0.0000000000000000000000000000001", "00000000000000000000000000000000001",
        ],
        "lng": ["-180", "180.0", "180.01", "179.999", "181", "0180", "1800", "99", "-0", "+-1", "12a"],
        "date": [
            "2026-06-21", "2026-6-1", "0001-01-01", "9999-12-31", "0000-01-01", "10000-01-01", "2024-02-29", "2023-02-29", "2000-2-29",
            "1900-02-29", "0400-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00", "2026-001-01", "26-01-01", "today",
            "yesterday", "tomorrow", "TODAY", "Today", "now", "", "2026-06-21T00:00:00",
        ],
        "formatted": ["0", "1", "", "2", "true", "01"],
        "tzid": [
            "", "UTC", "Europe/Lisbon", "America/Argentina/Buenos_Aires", "GMT", "US/Pacific", "EST", "Etc/UTC", "GMT+2", "utc", "Mars/Base",
            "../../dev/zero",
        ],
        "callback": [
            "", "handle", "app.handle", "$", "_x1", "1x", "a.", ".a", "a..b", "alert(1)", "a-b", String(repeating: "a", count: 64),
            String(repeating: "a", count: 65),
        ],
    ]

    @Test("pattern or enum and service agree", arguments: ["lat", "lng", "date", "formatted", "tzid", "callback"])
    func agree(parameter: String) throws {
        let document = try OpenAPIDocument(bytes: SunService.PackageResources.openapi_json)
        let schema = try #require(document.parameterSchema(parameter), "components/parameters/\(parameter)")
        let now = Date(timeIntervalSince1970: 1_782_000_000)
        for value in try #require(Self.samples[parameter]) {
            var query = ["lat": "45", "lng": "-122"]
            query[parameter] = value
            let serviceAccepts = (try? SunTimesRequest(query: query, now: now)) != nil
            let documentAccepts = SchemaCheck(document: document).problems(value, schema).isEmpty
            #expect(serviceAccepts == documentAccepts, "\(parameter)=\(value): service \(serviceAccepts), document \(documentAccepts)")
        }
    }

    @Test("tzid lists exactly the zones the service knows, plus the empty value")
    func zones() throws {
        let document = try OpenAPIDocument(bytes: SunService.PackageResources.openapi_json)
        let listed = Set(try #require(document.parameterSchema("tzid")?["enum"] as? [String]))
        let known = SunTimesRequest.knownZones.union([""])
        #expect(
            listed.subtracting(known).sorted() == [],
            "listed, but this toolchain's Foundation does not know them: remove them from components/schemas/TimeZoneID"
        )
        #expect(known.subtracting(listed).sorted() == [], "accepted, but not listed: add them to components/schemas/TimeZoneID")
    }
}
