public import Configuration
import Foundation

/// One named setting, reachable as a command-line flag, an environment variable and a config key.
///
/// Naming every setting once keeps the three spellings from drifting apart: `log-level` is the flag
/// `--log-level`, the variable `CITYSCAPE_LOG_LEVEL` and the config key `cityscape.logLevel`
/// (which swift-configuration's `EnvironmentVariablesProvider` maps to that same variable).
public struct Setting: Sendable, Hashable, CustomStringConvertible {
    /// The kebab-case name, e.g. `log-level`.
    public let name: String
    /// The flag's kebab-case name; the name itself unless a repeatable flag is singular (`--backend`
    /// fills `CITYSCAPE_BACKENDS`).
    public let flagName: String

    /// Creates a setting from its kebab-case name, and the flag's name where it differs.
    public init(_ name: String, flag flagName: String? = nil) {
        self.name = name
        self.flagName = flagName ?? name
    }

    /// The command-line flag, e.g. `--log-level`.
    public var flag: String { "--\(flagName)" }

    /// The Swift property ArgumentParser turns into the flag (`log-level` → `logLevel`).
    public var propertyName: String { Self.camelCase(flagName) }

    /// The environment variable, e.g. `CITYSCAPE_LOG_LEVEL`.
    public var environmentVariable: String {
        "CITYSCAPE_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The swift-configuration key, e.g. `cityscape.logLevel`.
    public var configKey: ConfigKey { ConfigKey(["cityscape", Self.camelCase(name)]) }

    /// The absolute key under which parsed command-line values are stored.
    public var absoluteConfigKey: AbsoluteConfigKey { AbsoluteConfigKey(configKey) }

    /// `--log-level / CITYSCAPE_LOG_LEVEL`, the form used in error messages.
    public var description: String { "\(flag) / \(environmentVariable)" }

    private static func camelCase(_ kebab: String) -> String {
        let words = kebab.split(separator: "-")
        return words.enumerated().map { index, word in index == 0 ? String(word) : word.prefix(1).uppercased() + word.dropFirst() }.joined()
    }
}
