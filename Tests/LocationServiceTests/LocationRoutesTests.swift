import CityscapeKit
import CityscapeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOFoundationCompat
import Testing

@testable import LocationService

@Suite("Location routes on the full table")
struct LocationRoutesTests {
    func app() throws -> some ApplicationProtocol {
        let configuration = ServerConfiguration()
        return ServiceApplication.make(
            router: buildRouter(index: try PostalData.index.get(), server: configuration),
            configuration: configuration,
            logger: LogRecorder().logger()
        )
    }

    static func path(_ postal: String, _ country: String) -> String {
        let allowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))
        return
            "/api/location/\(postal.addingPercentEncoding(withAllowedCharacters: allowed)!)/\(country.addingPercentEncoding(withAllowedCharacters: allowed)!)"
    }

    @Test("every sample case answers over HTTP as the data says", arguments: try PostalData.sampleCases())
    func sampleCase(_ sample: PostalSampleCase) async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: Self.path(sample.postal, sample.country), method: .get) { response in
                if sample.expect == "found" {
                    #expect(response.status == .ok)
                    let body = try JSONDecoder().decode(LocationResponse.self, from: Data(buffer: response.body))
                    #expect(body.country == sample.country.uppercased())
                    #expect(body.place == sample.place)
                    #expect(body.admin1 == sample.admin1)
                    #expect(body.latitude == sample.lat)
                    #expect(body.longitude == sample.lng)
                } else {
                    #expect(response.status == .notFound)
                    let decoded = try errorCode(response.body)
                    #expect(decoded == "postal_code_not_found")
                }
            }
        }
    }

    @Test(
        "full codes match the prefix the data holds, with any case and spacing",
        arguments: [
            ("SW1A 1AA", "gb", "SW1A"), ("sw1a1aa", "GB", "SW1A"), ("M5V 3L9", "ca", "M5V"), ("1012 AB", "NL", "1012"),
            (" 97227-1234 ", "us", "97227"), ("1000001", "JP", "100-0001"),
        ]
    )
    func prefixes(postal: String, country: String, stored: String) async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: Self.path(postal, country), method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONDecoder().decode(LocationResponse.self, from: Data(buffer: response.body))
                #expect(body.postalCode == stored)
            }
        }
    }

    @Test("the answer names the place's time zone, keys sorted")
    func timeZone() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: Self.path("75001", "fr"), method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(
                    text
                        == #"{"admin1":"Île-de-France","country":"FR","latitude":48.8563,"longitude":2.3453,"place":"Paris","postal_code":"75001","timezone":"Europe/Paris"}"#
                )
            }
        }
    }

    @Test(
        "the written body is byte for byte what JSONEncoder with sorted keys writes",
        arguments: [
            PostalRecord(
                country: "FR",
                postalCode: "75001",
                place: "Paris",
                admin1: "Île-de-France",
                latitude: 48.8563,
                longitude: 2.3453,
                timeZone: "Europe/Paris"
            ),
            PostalRecord(
                country: "SG",
                postalCode: "018989",
                place: "Say \"hi\" \\ a/b\t\u{1}",
                admin1: "",
                latitude: 1,
                longitude: -103.0001,
                timeZone: "Asia/Singapore"
            ),
            PostalRecord(
                country: "NZ",
                postalCode: "9016",
                place: "Dunedin",
                admin1: "Otago",
                latitude: -45.87,
                longitude: 170.5036,
                timeZone: "Pacific/Auckland"
            ),
        ]
    )
    func bodyMatchesJSONEncoder(record: PostalRecord) throws {
        let answer = LocationResponse(record)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expected = String(decoding: try encoder.encode(answer), as: UTF8.self)
        #expect(String(decoding: answer.json(), as: UTF8.self) == expected)
    }

    @Test(
        "malformed input is a 400 that names the problem",
        arguments: [
            ("97227", "USA", "invalid_country"), ("97227", "U1", "invalid_country"), ("97227", " ", "invalid_country"),
            (" ", "US", "invalid_postal_code"), ("12345678901234567", "US", "invalid_postal_code"),
            ("97227;DROP", "US", "invalid_postal_code"), ("9722é", "US", "invalid_postal_code"),
        ]
    )
    func malformed(postal: String, country: String, code: String) async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: Self.path(postal, country), method: .get) { response in
                #expect(response.status == .badRequest)
                let decoded = try errorCode(response.body)
                #expect(decoded == code)
            }
        }
    }

    @Test("/healthz reports how much data is loaded")
    func health() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                let report = try JSONDecoder().decode(HealthReport.self, from: Data(buffer: response.body))
                #expect(report.details == ["postal_codes": 1_080_401, "countries": 121])
            }
        }
    }
}

func errorCode(_ body: ByteBuffer) throws -> String? {
    let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
    return (object?["error"] as? [String: Any])?["code"] as? String
}
