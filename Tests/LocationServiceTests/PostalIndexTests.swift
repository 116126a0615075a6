import CityscapeKit
import Foundation
import Testing

@testable import LocationService

@Suite("Postal index on a small inline table")
struct PostalIndexTests {
    /// Sorted like the real table (country, then code in byte order): `E1` before `E1W`, one-row countries, UTF-8
    /// names, empty admin1, no trailing newline.
    static let tsv = """
        country_code\tpostal_code\tplace_name\tadmin1\tlatitude\tlongitude\ttimezone_id
        AD\tAD100\tCanillo\tCanillo\t42.5833\t1.6667\t1
        AD\tAD200\tEncamp\tEncamp\t42.5333\t1.6333\t1
        CA\tM5V\tDowntown Toronto\tOntario\t43.6404\t-79.3995\t3
        CA\tT3T 0E5\tTsuut'ina\tAlberta\t51.0105\t-114.1864\t2
        GB\tE1\tShadwell\tEngland\t51.5168\t-0.0549\t4
        GB\tE1W\tWapping\tEngland\t51.5066\t-0.0593\t4
        GB\tSW1A\tWestminster Abbey\tEngland\t51.5018\t-0.1328\t4
        GI\tGX11 1AA\tGibraltar\t\t36.1333\t-5.35\t5
        JP\t100-0001\tChiyoda\tTokyo To\t35.6841\t139.7521\t6
        KR\t03000\t종로구\t서울특별시\t37.6127\t126.9542\t7
        US\t01001\tAgawam\tMassachusetts\t42.0702\t-72.6227\t8
        US\t97227\tPortland\tOregon\t45.5496\t-122.6743\t9
        ZA\t9992\tBethulie\t\t-30.5333\t21.2833\t10
        """

    /// The names the inline table's `timezone_id` column indexes, in the real file's format.
    static let timeZones = [
        "UTC", "Europe/Andorra", "America/Edmonton", "America/Toronto", "Europe/London", "Europe/Gibraltar", "Asia/Tokyo",
        "Asia/Seoul", "America/New_York", "America/Los_Angeles", "Africa/Johannesburg",
    ]

    static func index(_ text: String = tsv) throws -> PostalIndex {
        try PostalIndex(tsv: Array(text.utf8), timeZones: timeZones)
    }

    @Test("counts rows and countries")
    func counts() throws {
        let index = try Self.index()
        #expect(index.count == 13)
        #expect(index.countryCount == 8)
    }

    @Test("decodes every column of a hit")
    func decodesRecord() throws {
        let record = try #require(try Self.index().lookup(PostalQuery(postalCode: "97227", country: "us")))
        #expect(
            record
                == PostalRecord(
                    country: "US",
                    postalCode: "97227",
                    place: "Portland",
                    admin1: "Oregon",
                    latitude: 45.5496,
                    longitude: -122.6743,
                    timeZone: "America/Los_Angeles"
                )
        )
    }

    @Test(
        "finds first, last, middle, one-row-country and UTF-8 rows",
        arguments: [
            ("AD", "AD100", "Canillo", "Canillo"),
            ("ZA", "9992", "Bethulie", ""),
            ("GB", "E1", "Shadwell", "England"),
            ("GB", "E1W", "Wapping", "England"),
            ("GB", "SW1A", "Westminster Abbey", "England"),
            ("GI", "GX11 1AA", "Gibraltar", ""),
            ("KR", "03000", "종로구", "서울특별시"),
            ("US", "01001", "Agawam", "Massachusetts"),
        ]
    )
    func exactHit(country: String, postalCode: String, place: String, admin1: String) throws {
        let record = try #require(try Self.index().lookup(PostalQuery(postalCode: postalCode, country: country)))
        #expect(record.country == country)
        #expect(record.postalCode == postalCode)
        #expect(record.place == place)
        #expect(record.admin1 == admin1)
    }

    @Test(
        "finds the stored form of a full or differently spelled code",
        arguments: [
            ("gb", "sw1a 1aa", "SW1A"),
            ("GB", "E1W 1AA", "E1W"),
            ("GB", "E1 6AN", "E1"),
            ("CA", "M5V 3L9", "M5V"),
            ("CA", "t3t0e5", "T3T 0E5"),
            ("JP", "1000001", "100-0001"),
            ("GI", "GX111AA", "GX11 1AA"),
        ]
    )
    func hitThroughCandidates(country: String, raw: String, stored: String) throws {
        let record = try #require(try Self.index().lookup(PostalQuery(postalCode: raw, country: country)))
        #expect(record.postalCode == stored)
    }

    @Test(
        "answers nil for well-formed codes the table does not hold",
        arguments: [
            ("US", "00000"),
            ("US", "97228"),
            ("US", "9722"),
            ("US", "972270"),
            ("GB", "SW1"),
            ("GB", "SW1AB"),
            ("GB", "E2"),
            ("GB", "ZZ99"),
            ("NL", "97227"),
            ("XX", "10001"),
            ("AA", "AD100"),
            ("ZZ", "9992"),
            ("ZA", "0000"),
            ("ZA", "99999"),
            ("AD", "AD000"),
            ("GI", "GX11"),
        ]
    )
    func miss(country: String, postalCode: String) throws {
        #expect(try Self.index().lookup(PostalQuery(postalCode: postalCode, country: country)) == nil)
    }

    @Test("row(country:postalCode:) matches bytes exactly, without normalising")
    func rawRowLookup() throws {
        let index = try Self.index()
        #expect(index.row(country: "US", postalCode: "97227") == 11)
        #expect(index.row(country: "us", postalCode: "97227") == nil)
        #expect(index.row(country: "GB", postalCode: "sw1a") == nil)
        #expect(index.row(country: "USA", postalCode: "97227") == nil)
        #expect(index.row(country: "", postalCode: "") == nil)
    }

    @Test("a table with only a header, or with a trailing newline, is valid")
    func edgeTables() throws {
        let header = "country_code\tpostal_code\tplace_name\tadmin1\tlatitude\tlongitude\ttimezone_id"
        let empty = try Self.index(header + "\n")
        #expect(empty.count == 0)
        #expect(empty.countryCount == 0)
        #expect(try empty.lookup(PostalQuery(postalCode: "97227", country: "US")) == nil)
        let terminated = try Self.index(Self.tsv + "\n")
        #expect(terminated.count == 13)
        #expect(try terminated.lookup(PostalQuery(postalCode: "9992", country: "ZA"))?.longitude == 21.2833)
    }

    // MARK: Malformed tables

    static let header = "country_code\tpostal_code\tplace_name\tadmin1\tlatitude\tlongitude\ttimezone_id\n"
    static let good = "US\t01001\tAgawam\tMassachusetts\t42.0702\t-72.6227\t8\n"

    @Test(
        "a malformed table is rejected with the line number",
        arguments: [
            ("no header", "", 1),
            ("wrong header", "country\tpostal_code\tplace_name\tadmin1\tlatitude\tlongitude\ttimezone_id\n" + good, 1),
            ("CRLF header", header.replacingOccurrences(of: "\n", with: "\r\n") + good, 1),
            ("six columns", header + good + "US\t97227\tPortland\t45.5496\t-122.6743\t0\n", 3),
            ("no zone column", header + good + "US\t97227\tPortland\tOregon\t45.5496\t-122.6743\n", 3),
            ("eight columns", header + "US\t01001\tAgawam\tMassachusetts\t42.0702\t-72.6227\t0\textra\n", 2),
            ("one column", header + "US\n", 2),
            ("blank line", header + good + "\n" + "US\t97227\tPortland\tOregon\t45.5496\t-122.6743\t0\n", 3),
            ("unsorted codes", header + "US\t97227\tPortland\tOregon\t45.5496\t-122.6743\t0\n" + good, 3),
            ("duplicate code", header + good + good, 3),
            ("prefix after longer code", header + "GB\tE1W\tWapping\tEngland\t51.5\t-0.05\t0\nGB\tE1\tShadwell\tEngland\t51.5\t-0.05\t0\n", 3),
            ("unsorted countries", header + good + "DE\t10115\tBerlin\tBerlin\t52.5323\t13.3846\t0\n", 3),
            ("lower-case country", header + "us\t01001\tAgawam\tMassachusetts\t42.0702\t-72.6227\t0\n", 2),
            ("three-letter country", header + "USA\t01001\tAgawam\tMassachusetts\t42.0702\t-72.6227\t0\n", 2),
            ("lower-case code", header + "GB\tsw1a\tWestminster\tEngland\t51.5\t-0.13\t0\n", 2),
            ("double space in code", header + "SE\t111  20\tStockholm\tStockholm\t59.3\t18.06\t0\n", 2),
            ("trailing space in code", header + "SE\t111 \tStockholm\tStockholm\t59.3\t18.06\t0\n", 2),
            ("empty code", header + "US\t\tAgawam\tMassachusetts\t42.0702\t-72.6227\t0\n", 2),
            ("17-character code", header + "US\t12345678901234567\tAgawam\tMassachusetts\t42.0702\t-72.6227\t0\n", 2),
            ("latitude over 90", header + "US\t01001\tAgawam\tMassachusetts\t90.0001\t-72.6227\t0\n", 2),
            ("longitude under -180", header + "US\t01001\tAgawam\tMassachusetts\t42.0702\t-180.5\t0\n", 2),
            ("empty latitude", header + "US\t01001\tAgawam\tMassachusetts\t\t-72.6227\t0\n", 2),
            ("text latitude", header + "US\t01001\tAgawam\tMassachusetts\tabc\t-72.6227\t0\n", 2),
            ("exponent", header + "US\t01001\tAgawam\tMassachusetts\t42.0702\t-7e1\t0\n", 2),
            ("two decimal points", header + "US\t01001\tAgawam\tMassachusetts\t42.07.02\t-72.6227\t0\n", 2),
            ("huge number", header + "US\t01001\tAgawam\tMassachusetts\t42.070200000000000000000001\t-72.6227\t0\n", 2),
            ("zone id out of range", header + "US\t01001\tAgawam\tMassachusetts\t42.0702\t-72.6227\t11\n", 2),
            ("zone id with a leading zero", header + "US\t01001\tAgawam\tMassachusetts\t42.0702\t-72.6227\t08\n", 2),
            ("empty zone id", header + "US\t01001\tAgawam\tMassachusetts\t42.0702\t-72.6227\t\n", 2),
            ("zone name instead of id", header + "US\t01001\tAgawam\tMassachusetts\t42.0702\t-72.6227\tUTC\n", 2),
            ("CRLF row", header + "US\t01001\tAgawam\tMassachusetts\t42.0702\t-72.6227\t0\r\n", 2),
        ]
    )
    func malformedTable(name: String, text: String, line: Int) throws {
        let error = try #require(throws: PostalTableError.self, "\(name)") {
            try PostalIndex(tsv: Array(text.utf8), timeZones: Self.timeZones)
        }
        #expect(error.line == line, "\(name): \(error)")
        #expect(!error.message.isEmpty)
    }

    @Test("the limits of the coordinate columns are accepted")
    func coordinateLimits() throws {
        let text = Self.header + "AQ\t0001\tSouth Pole\t\t-90\t180\t0\nAQ\t0002\tNowhere\t\t90.0\t-180.0000\t0\n"
        let index = try Self.index(text)
        let record = try #require(index.lookup(PostalQuery(postalCode: "0001", country: "AQ")))
        #expect(record.latitude == -90)
        #expect(record.longitude == 180)
    }
}

// MARK: - Full table

/// A case of `Data/postal/sample_cases.json`.
struct PostalSampleCase: Decodable, Sendable, CustomTestStringConvertible {
    let country: String
    let postal: String
    let expect: String
    let place: String?
    let admin1: String?
    let lat: Double?
    let lng: Double?

    var testDescription: String { "\(country) \(postal) → \(expect)" }
}

/// The shipped data, located from this file: the repository root is three levels up.
enum PostalData {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Data/postal")

    /// Loaded once for every test that needs it: decompressing and indexing takes a few hundred milliseconds.
    static let index: Result<PostalIndex, any Error> = Result {
        try loadPostalIndex(from: directory.appendingPathComponent("postal_codes.tsv.gz"))
    }

    static func sampleCases() throws -> [PostalSampleCase] {
        try JSONDecoder().decode([PostalSampleCase].self, from: Data(contentsOf: directory.appendingPathComponent("sample_cases.json")))
    }
}

@Suite("Postal index on the full table")
struct PostalFullTableTests {
    @Test("holds every row and country of ATTRIBUTION.md")
    func counts() throws {
        let index = try PostalData.index.get()
        #expect(index.count == 1_080_401)
        #expect(index.countryCount == 121)
        #expect(index.record(at: 0).postalCode == "AD100")
        #expect(
            index.record(at: index.count - 1)
                == PostalRecord(
                    country: "ZA",
                    postalCode: "9992",
                    place: "Bethulie",
                    admin1: "",
                    latitude: -30.5333,
                    longitude: 21.2833,
                    timeZone: "Africa/Johannesburg"
                )
        )
    }

    @Test("answers the sample cases", arguments: try PostalData.sampleCases())
    func sampleCase(_ sample: PostalSampleCase) throws {
        let index = try PostalData.index.get()
        let record = index.lookup(try PostalQuery(postalCode: sample.postal, country: sample.country))
        switch sample.expect {
        case "found":
            let found = try #require(record)
            #expect(found.place == sample.place)
            #expect(found.admin1 == sample.admin1)
            #expect(found.latitude == sample.lat)
            #expect(found.longitude == sample.lng)
        case "not_found":
            #expect(record == nil)
        default:
            Issue.record("unknown expectation \(sample.expect)")
        }
    }

    @Test(
        "every candidate rule reaches a code the real data holds",
        arguments: [
            ("GB", "SW1A 1AA", "SW1A"), ("GB", "sw1a1aa", "SW1A"), ("GG", "GY1 1AA", "GY1"), ("JE", "JE2 3XX", "JE2"),
            ("IM", "IM1 1AA", "IM1"), ("CA", "M5V 3L9", "M5V"), ("CA", "T3T0E5", "T3T 0E5"), ("NL", "1012 AB", "1012"),
            ("US", "97227-1234", "97227"), ("PR", "00601-1234", "00601"), ("IE", "D02 X285", "D02"), ("IE", "D6WA1B2", "D6W"),
            ("MT", "VLT 1117", "VLT"), ("AR", "X5000ABC", "5000"), ("CL", "8320085", "8320000"), ("BR", "01000000", "01000-000"),
            ("JP", "1000001", "100-0001"), ("PL", "00002", "00-002"), ("PT", "1000001", "1000-001"), ("SE", "11120", "111 20"),
            ("CZ", "11000", "110 00"), ("SK", "01001", "010 01"), ("AE", "0000462392", "00004 62392"), ("LU", "1111", "L-1111"),
            ("LV", "LV1001", "LV-1001"), ("MD", "2000", "MD-2000"), ("AI", "2640", "AI-2640"), ("AZ", "AZ0100", "AZ 0100"),
            ("AD", "100", "AD100"), ("HT", "1110", "HT1110"), ("BM", "CR01", "CR 01"), ("FK", "FIQQ1ZZ", "FIQQ 1ZZ"),
            ("GI", "GX111AA", "GX11 1AA"), ("DE", "10115 Berlin", "10115"),
        ]
    )
    func ruleReachesData(country: String, raw: String, stored: String) throws {
        let index = try PostalData.index.get()
        let record = try #require(index.lookup(PostalQuery(postalCode: raw, country: country)))
        #expect(record.postalCode == stored)
    }

    @Test(
        "does not guess where a shorter form would be a different code",
        arguments: [("BR", "65935-123"), ("FR", "93210 CEDEX 1"), ("GB", "SW1A 1"), ("CL", "8330085")]
    )
    func noGuess(country: String, raw: String) throws {
        let index = try PostalData.index.get()
        #expect(index.lookup(try PostalQuery(postalCode: raw, country: country)) == nil)
    }
}
