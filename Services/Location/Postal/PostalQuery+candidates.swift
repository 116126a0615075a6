import CityscapeKit

extension PostalQuery {
    /// Codes to try in order: the normalised code, then the country-specific forms the data holds (prefix rules).
    var candidates: [String] {
        PostalCodeCandidates.candidates(for: postalCode, country: country)
    }
}
