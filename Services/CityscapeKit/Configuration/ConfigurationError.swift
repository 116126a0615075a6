/// A setting that is present but unusable; the message names the flag, the variable and what is expected.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The human-readable explanation printed before the process exits.
    public let message: String

    /// Creates an error for a bad value of `setting`.
    public init(setting: Setting, value: String, expected: String) {
        self.message = "invalid value '\(value)' for \(setting): expected \(expected)"
    }

    /// Creates an error with a free-form message, for checks that involve several settings.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
