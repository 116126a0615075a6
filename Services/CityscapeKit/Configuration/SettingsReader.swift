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

    /// Parses the value of `setting`, or returns `defaultValue` when it is unset.
    /// - Parameter expected: what a valid value looks like, for the error message.
    public func value<Value>(
        _ setting: Setting,
        default defaultValue: Value,
        expected: String,
        parse: (String) -> Value?
    ) throws(ConfigurationError) -> Value {
        guard let raw = string(setting) else { return defaultValue }
        guard let value = parse(raw) else {
            throw ConfigurationError(setting: setting, value: raw, expected: expected)
        }
        return value
    }

    /// An integer within `range`.
    public func integer(_ setting: Setting, default defaultValue: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        try value(setting, default: defaultValue, expected: "an integer from \(range.lowerBound) to \(range.upperBound)") { raw in
            Int(raw).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    /// A duration such as `500ms`, `2s`, `1.5s`, `1m` or `0`.
    public func duration(_ setting: Setting, default defaultValue: Duration, in range: ClosedRange<Duration>) throws(ConfigurationError) -> Duration {
        try value(
            setting,
            default: defaultValue,
            expected: "a duration like 500ms, 2s or 1m, from \(DurationParser.format(range.lowerBound)) to \(DurationParser.format(range.upperBound))"
        ) { raw in
            DurationParser.parse(raw).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    /// One of a fixed set of raw values (an enum such as the log level or the gateway mode).
    public func choice<Choice: RawRepresentable & CaseIterable>(_ setting: Setting, default defaultValue: Choice) throws(ConfigurationError) -> Choice
    where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue).joined(separator: ", ")
        return try value(setting, default: defaultValue, expected: "one of \(names)") { Choice(rawValue: $0.lowercased()) }
    }
}
