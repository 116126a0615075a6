/// A validated, normalised postal code lookup: what `GET /api/location/{postal_code}/{country}` asks for, and
/// the first two parameters of the gateway's `GET /api/sun/{postal_code}/{country}` (one set of rules, so what
/// the gateway accepts the location service accepts too).
///
/// Validation happens here, before any lookup, so every 400 is decided by the input alone.
///
/// ## Normalisation rules
/// Whitespace means any Unicode `White_Space` character (space, tab, line breaks, no-break space, ...).
///
/// Country:
/// - Leading and trailing whitespace is removed and ASCII letters are upper-cased (`us` → `US`).
/// - The result must be exactly two ASCII letters (ISO 3166-1 alpha-2), else `invalid_country`.
///   Whether the country exists is not checked here: a well-formed unknown country such as `XX` is a 404, not a 400.
///
/// Postal code:
/// - Leading and trailing whitespace is removed, every inner run of whitespace becomes one space,
///   ASCII letters are upper-cased (`" sw1a \t 1aa "` → `SW1A 1AA`).
/// - The result must not be empty and must have at most 16 characters (the longest code in the data has 15),
///   else `invalid_postal_code`.
/// - Only ASCII letters, digits, space and hyphen are allowed, else `invalid_postal_code`; these are exactly the
///   characters the 1,080,401 codes in the data use. Letters are upper-cased as ASCII only, so `ß` or `ﬁ` is
///   rejected instead of turning into `SS` or `FI`.
/// - Codes are strings, never numbers: leading zeros are kept (`01001`).
/// - The location service then tries the spellings the country's data may hold (`PostalCodeCandidates`).
public struct PostalQuery: Sendable, Equatable {
    /// Longest accepted normalised postal code, in characters.
    public static let maximumPostalCodeLength = 16

    /// Upper-cased ISO 3166-1 alpha-2 code.
    public let country: String
    /// The normalised postal code: trimmed, inner whitespace collapsed to one space, ASCII upper-case.
    public let postalCode: String

    /// Validates raw path parameters (already percent-decoded). Throws `PostalQueryError` before any lookup.
    ///
    /// The country is checked first, so a request with both parameters wrong reports the country.
    public init(postalCode rawPostalCode: String, country rawCountry: String) throws(PostalQueryError) {
        country = try Self.normalisedCountry(rawCountry)
        postalCode = try Self.normalisedPostalCode(rawPostalCode)
    }

    // MARK: Normalisation

    private static func normalisedCountry(_ raw: String) throws(PostalQueryError) -> String {
        let scalars = collapsedUpperCased(raw)
        guard !scalars.isEmpty else {
            throw .invalidCountry("country is empty; expected a two-letter ISO 3166-1 alpha-2 code such as US, DE or GB")
        }
        guard scalars.count == 2, scalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw .invalidCountry("country must be exactly two ASCII letters (ISO 3166-1 alpha-2 code such as US, DE or GB)")
        }
        return String(scalars)
    }

    private static func normalisedPostalCode(_ raw: String) throws(PostalQueryError) -> String {
        let scalars = collapsedUpperCased(raw)
        guard !scalars.isEmpty else {
            throw .invalidPostalCode(
                "postal code is empty; expected 1 to \(maximumPostalCodeLength) ASCII letters, digits, spaces or hyphens such as 97227 or SW1A 1AA"
            )
        }
        guard scalars.count <= maximumPostalCodeLength else {
            throw .invalidPostalCode(
                "postal code has \(scalars.count) characters; at most \(maximumPostalCodeLength) are allowed (ASCII letters, digits, spaces, hyphens)"
            )
        }
        if let bad = scalars.first(where: { !Self.isAllowedInPostalCode($0) }) {
            throw .invalidPostalCode(
                "postal code contains \(displayed(bad)), which no postal code uses; allowed are ASCII letters, digits, spaces and hyphens"
            )
        }
        return String(scalars)
    }

    /// Trims whitespace, turns each inner whitespace run into one space and upper-cases ASCII letters only.
    ///
    /// Works on Unicode scalars so non-ASCII input survives unchanged for the validation that rejects it, rather than
    /// being case-mapped into ASCII (`ß` → `SS`) by `uppercased()`.
    private static func collapsedUpperCased(_ raw: String) -> String.UnicodeScalarView {
        var result = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in raw.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace {
                result.append(" ")
                pendingSpace = false
            }
            result.append(("a"..."z").contains(scalar) ? Unicode.Scalar(UInt8(scalar.value) - 0x20) : scalar)
        }
        return result
    }

    /// `A`-`Z`, `0`-`9`, space and hyphen (after upper-casing): every character the 1,080,401 codes of the data use.
    private static func isAllowedInPostalCode(_ scalar: Unicode.Scalar) -> Bool {
        ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == " " || scalar == "-"
    }

    /// Names a rejected character without echoing control or invisible characters into the error body.
    private static func displayed(_ scalar: Unicode.Scalar) -> String {
        if scalar.isASCII, scalar.value >= 0x21, scalar.value < 0x7F {
            return "'\(scalar)'"
        }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
