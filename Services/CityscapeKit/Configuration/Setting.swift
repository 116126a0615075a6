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

    /// Creates a setting from its kebab-case name.
    public init(_ name: String) {
        self.name = name
    }

    /// The command-line flag, e.g. `--log-level`.
    public var flag: String { "--\(name)" }

    /// The environment variable, e.g. `CITYSCAPE_LOG_LEVEL`.
    public var environmentVariable: String {
        "CITYSCAPE_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The swift-configuration key, e.g. `cityscape.logLevel`.
    public var configKey: ConfigKey {
        let words = name.split(separator: "-")
        let camel = words.enumerated().map { index, word in index == 0 ? String(word) : word.prefix(1).uppercased() + word.dropFirst() }
        return ConfigKey(["cityscape", camel.joined()])
    }

    /// The absolute key under which parsed command-line values are stored.
    public var absoluteConfigKey: AbsoluteConfigKey { AbsoluteConfigKey(configKey) }

    /// `--log-level / CITYSCAPE_LOG_LEVEL`, the form used in error messages.
    public var description: String { "\(flag) / \(environmentVariable)" }
}
