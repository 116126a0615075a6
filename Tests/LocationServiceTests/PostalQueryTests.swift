import CityscapeKit
import Testing

@testable import LocationService

@Suite("Postal query validation and normalisation")
struct PostalQueryTests {
    // MARK: Country

    @Test(
        "country is trimmed and upper-cased",
        arguments: [
            ("us", "US"), ("US", "US"), (" De ", "DE"), ("\tgb\n", "GB"), ("\u{00A0}fr\u{2003}", "FR"), ("xX", "XX"),
        ]
    )
    func countryIsNormalised(raw: String, expected: String) throws {
        let query = try PostalQuery(postalCode: "12345", country: raw)
        #expect(query.country == expected)
    }

    @Test(
        "a country that is not two ASCII letters is invalid_country",
        arguments: ["XYZ", "1", "", "   ", "U", "U1", "12", "U S", "us-", "ÜS", "\u{FF35}\u{FF33}", "U\u{200B}S", "usa"]
    )
    func countryIsRejected(raw: String) throws {
        let error = try #require(throws: PostalQueryError.self) {
            try PostalQuery(postalCode: "97227", country: raw)
        }
        #expect(error.code == "invalid_country")
        #expect(error.message.contains("two"))
        #expect(error.message.contains("US"))
    }

    @Test("the country is reported when both parameters are invalid")
    func countryIsCheckedFirst() throws {
        let error = try #require(throws: PostalQueryError.self) {
            try PostalQuery(postalCode: "", country: "XYZ")
        }
        #expect(error.code == "invalid_country")
    }

    // MARK: Postal code

    @Test(
        "postal code is trimmed, inner whitespace collapsed and ASCII upper-cased",
        arguments: [
            ("97227", "97227"),
            ("01001", "01001"),
            (" sw1a  1aa ", "SW1A 1AA"),
            ("sw1a\t\t1aa", "SW1A 1AA"),
            ("\u{00A0}m5v\u{2009}3l9\n", "M5V 3L9"),
            ("100-0001", "100-0001"),
            ("13020  cedex \t 20", "13020 CEDEX 20"),
            ("a", "A"),
            ("1234567890123456", "1234567890123456"),
            ("  1234567890123456  ", "1234567890123456"),
        ]
    )
    func postalCodeIsNormalised(raw: String, expected: String) throws {
        let query = try PostalQuery(postalCode: raw, country: "us")
        #expect(query.postalCode == expected)
        #expect(query.candidates.first == expected)
    }

    @Test(
        "an empty, too long or wrongly spelled postal code is invalid_postal_code",
        arguments: [
            ("", "empty"),
            ("   ", "empty"),
            ("\t\n\u{00A0}", "empty"),
            ("12345678901234567", "17 characters"),
            ("SW1A 1AA SW1A 1AA", "17 characters"),
            ("97227;DROP", "';'"),
            ("97227/1", "'/'"),
            ("97_227", "'_'"),
            ("straße", "U+00DF"),
            ("ÅLAND", "U+00C5"),
            ("\u{FB01}", "U+FB01"),
            ("\u{FF11}\u{FF12}\u{FF13}", "U+FF11"),
            ("97227\u{200B}", "U+200B"),
            ("97227\u{0000}", "U+0000"),
        ]
    )
    func postalCodeIsRejected(raw: String, messageMentions: String) throws {
        let error = try #require(throws: PostalQueryError.self) {
            try PostalQuery(postalCode: raw, country: "US")
        }
        #expect(error.code == "invalid_postal_code")
        #expect(error.message.contains(messageMentions), "\(error.message)")
        #expect(error.message.contains("letters, digits"), "the message says what is expected: \(error.message)")
    }

    // MARK: Candidates

    @Test(
        "candidates list the normalised code, then the forms the country's data uses",
        arguments: [
            // Truncated in the data.
            ("US", "97227-1234", ["97227-1234", "97227"]),
            ("US", "97227 1234", ["97227 1234", "97227"]),
            ("US", "972271234", ["972271234", "97227"]),
            ("US", "97227", ["97227"]),
            ("US", "97227-12", ["97227-12"]),
            ("PR", "00601-1234", ["00601-1234", "00601"]),
            ("CA", "M5V 3L9", ["M5V 3L9", "M5V"]),
            ("CA", "m5v3l9", ["M5V3L9", "M5V 3L9", "M5V"]),
            ("CA", "M5V", ["M5V"]),
            ("GB", "SW1A 1AA", ["SW1A 1AA", "SW1A"]),
            ("GB", "sw1a1aa", ["SW1A1AA", "SW1A"]),
            ("GB", "EC1A 1BB", ["EC1A 1BB", "EC1A"]),
            ("GB", "B10 1AA", ["B10 1AA", "B10"]),
            ("GB", "B1 1AA", ["B1 1AA", "B1"]),
            ("GB", "SW1A", ["SW1A"]),
            ("GB", "SW1A 1", ["SW1A 1"]),
            ("GG", "GY1 1AA", ["GY1 1AA", "GY1"]),
            ("JE", "JE2 3XX", ["JE2 3XX", "JE2"]),
            ("IM", "IM1 1AA", ["IM1 1AA", "IM1"]),
            ("NL", "1012 AB", ["1012 AB", "1012"]),
            ("NL", "1012ab", ["1012AB", "1012"]),
            ("NL", "97227", ["97227"]),
            ("IE", "D02 X285", ["D02 X285", "D02"]),
            ("IE", "D6WA1B2", ["D6WA1B2", "D6W"]),
            ("MT", "VLT 1117", ["VLT 1117", "VLT"]),
            ("AR", "C1425DKA", ["C1425DKA", "1425"]),
            ("AR", "1425", ["1425"]),
            ("CL", "8320085", ["8320085", "8320000"]),
            // Separators as published.
            ("BR", "01000000", ["01000000", "01000-000"]),
            ("BR", "01310-100", ["01310-100"]),
            ("JP", "1000001", ["1000001", "100-0001"]),
            ("JP", "100 0001", ["100 0001", "100-0001"]),
            ("JP", "100-0001", ["100-0001"]),
            ("PL", "00002", ["00002", "00-002"]),
            ("PT", "1000 001", ["1000 001", "1000-001"]),
            ("SE", "11120", ["11120", "111 20"]),
            ("SE", "111-20", ["111-20", "111 20"]),
            ("CZ", "11000", ["11000", "110 00"]),
            ("SK", "01001", ["01001", "010 01"]),
            ("AE", "0000462392", ["0000462392", "00004 62392"]),
            ("BM", "cr01", ["CR01", "CR 01"]),
            ("FK", "FIQQ1ZZ", ["FIQQ1ZZ", "FIQQ 1ZZ"]),
            ("GI", "GX111AA", ["GX111AA", "GX11 1AA"]),
            // Country prefix typed with or without it.
            ("LU", "1111", ["1111", "L-1111"]),
            ("LU", "l1111", ["L1111", "L-1111"]),
            ("LU", "L-1111", ["L-1111"]),
            ("LV", "LV 1001", ["LV 1001", "LV-1001"]),
            ("MD", "2000", ["2000", "MD-2000"]),
            ("AI", "2640", ["2640", "AI-2640"]),
            ("AZ", "AZ0100", ["AZ0100", "AZ 0100"]),
            ("AD", "AD 100", ["AD 100", "AD100"]),
            ("AD", "100", ["100", "AD100"]),
            ("HT", "1110", ["1110", "HT1110"]),
            // No truncation where the part before the space is another code.
            ("FR", "93210 CEDEX 1", ["93210 CEDEX 1"]),
            ("RE", "97401 CEDEX", ["97401 CEDEX"]),
            // Generic: the part before the first space.
            ("DE", "10115 Berlin", ["10115 BERLIN", "10115"]),
            ("DE", "10115", ["10115"]),
            ("XX", "1 2 3", ["1 2 3", "1"]),
        ]
    )
    func candidates(country: String, raw: String, expected: [String]) throws {
        let query = try PostalQuery(postalCode: raw, country: country)
        #expect(query.candidates == expected)
        for candidate in query.candidates {
            // A candidate must itself be a normalised code, or the index could never hold it.
            #expect(try PostalQuery(postalCode: candidate, country: country).postalCode == candidate)
        }
    }

    @Test("every country whose codes contain a space has rules, so the generic truncation never applies to it")
    func spacedCountriesHaveRules() {
        let spaced = ["AE", "AZ", "BM", "CA", "CZ", "FK", "FR", "GF", "GI", "GP", "GS", "IO", "MQ", "PN", "RE", "SE", "SK", "TC", "WS"]
        for country in spaced {
            #expect(PostalCodeCandidates.rulesByCountry[country] != nil, "\(country)")
        }
    }
}
