public import Configuration
import Foundation

/// Reads `Setting`s from a `ConfigReader` and turns malformed values into `ConfigurationError`s.
///
/// swift-configuration's typed getters (`int(forKey:)`, ...) silently fall back to the default when a
/// value does not parse; a service that quietly ignores `CITYSCAPE_PORT=80o0` is worse than one that
/// refuses to start, so every value is read as a string and parsed here, with one message format for
/// flags and environment variables alike.
public struct SettingsReader: Sendable {
    /// The underlying reader (command line first, then environment).
    public let reader: ConfigReader

    /// Wraps an existing reader.
    public init(reader: ConfigReader) {
        self.reader = reader
    }

    /// Builds the standard provider chain: parsed command-line values first, then the process environment.
    public init(commandLine values: [AbsoluteConfigKey: ConfigValue], environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.reader = ConfigReader(providers: [
            InMemoryProvider(name: "command line", values: values),
            EnvironmentVariablesProvider(environmentVariables: environment),
        ])
    }

    /// The raw string value, trimmed; nil when unset or empty.
    public func string(_ setting: Setting) -> String? {
        guard let raw = reader.string(forKey: setting.configKey) else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The declared setting's value: parsed from the flag or variable, or its default when unset.
    public func value<Value>(_ declaration: SettingDeclaration<Value>) throws(ConfigurationError) -> Value {
        try value(declaration.setting, default: declaration.defaultValue, parser: declaration.parser)
    }

    /// Parses the value of `setting` with `parser`, or returns `defaultValue` when it is unset.
    public func value<Value>(_ setting: Setting, default defaultValue: Value, parser: SettingParser<Value>) throws(ConfigurationError) -> Value {
        guard let raw = string(setting) else { return defaultValue }
        do {
            return try parser.parse(raw)
        } catch {
            throw ConfigurationError(setting: setting, value: error.value ?? raw, expected: error.expected ?? parser.expected)
        }
    }
}
