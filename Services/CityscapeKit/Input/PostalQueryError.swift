public import Hummingbird

/// Why the raw path parameters of a postal lookup were rejected; the HTTP layer maps it to a 400.
///
/// A struct with a closed set of factories rather than a public enum, so a new rejection reason does not break
/// every `switch` over it (the AsyncHTTPClient `HTTPClientError` pattern).
public struct PostalQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable machine-readable code for the JSON error body.
    public let code: String
    /// Human-readable text saying what is wrong and what is expected.
    public let message: String

    private init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// The country parameter is not two ASCII letters.
    public static func invalidCountry(_ message: String) -> Self {
        Self(code: "invalid_country", message: message)
    }

    /// The postal code parameter is empty, too long or holds a character no postal code uses.
    public static func invalidPostalCode(_ message: String) -> Self {
        Self(code: "invalid_postal_code", message: message)
    }

    /// The 400 the HTTP layer answers with.
    public var serviceError: ServiceError {
        ServiceError(.badRequest, code: code, message: message)
    }
}
