public import ArgumentParser

/// One setting, declared once: its name (hence flag and environment variable), default, help, value
/// name and parser. `--help`, the environment lookup, the error for a bad value and the README tables
/// are all produced from it.
///
/// A service lists its declarations in an enum (`ProxySettings`, `GatewaySettings`, ...) and gives each
/// a thin `@Option(help: Settings.x.help) var x: String?` line, because ArgumentParser needs a stored
/// property per flag; the values reach the configuration through `commandLineValues(declared:)`.
public struct SettingDeclaration<Value: Sendable>: Sendable {
    /// Everything shown to users, without the value type.
    public let document: SettingDocument
    /// The value used when neither the flag nor the variable is set.
    public let defaultValue: Value
    /// Turns the text of the flag or variable into a value.
    public let parser: SettingParser<Value>

    /// Declares a setting.
    /// - Parameters:
    ///   - name: kebab-case; the variable is `CITYSCAPE_` + its upper-snake form.
    ///   - flag: the flag's name when it differs from `name` (a singular repeatable flag).
    ///   - repeatable: the flag may be given several times; the variable holds a comma-separated list.
    ///   - shown: how the default is shown; by default the parser's form of `defaultValue`.
    ///   - help: one plain sentence for `--help`, without the final period or the env/default note.
    ///   - readme: the README's "meaning" cell (Markdown) when it says more than `help`.
    public init(
        _ name: String,
        flag: String? = nil,
        repeatable: Bool = false,
        default defaultValue: Value,
        shown: SettingDefault? = nil,
        valueName: String,
        help: String,
        readme: String? = nil,
        parser: SettingParser<Value>
    ) {
        self.defaultValue = defaultValue
        self.parser = parser
        self.document = SettingDocument(
            setting: Setting(name, flag: flag),
            repeatable: repeatable,
            shownDefault: shown ?? parser.format(defaultValue).map(SettingDefault.value) ?? .none,
            valueName: valueName,
            summary: help,
            readme: readme
        )
    }

    /// The name, flag and environment variable.
    public var setting: Setting { document.setting }

    /// The ArgumentParser help of the flag.
    public var help: ArgumentHelp { document.help }
}

/// How `--help` and the README show a setting's default.
public enum SettingDefault: Sendable, Equatable {
    /// A value a user could type: help `default 10s`, README `` `10s` ``.
    case value(String)
    /// A description: help `default: found automatically`, README plain text.
    case described(String)
    /// No default (the setting is simply not used): nothing in help, `–` in the README.
    case none
}

/// A setting as users see it: the flag, the variable, the default and what it means.
public struct SettingDocument: Sendable, Equatable {
    /// The name, flag and environment variable.
    public let setting: Setting
    /// The flag may be repeated; the variable then holds a comma-separated list.
    public let repeatable: Bool
    /// How the default is shown.
    public let shownDefault: SettingDefault
    /// The placeholder after the flag in `--help`, e.g. `duration`.
    public let valueName: String
    /// The plain sentence of `--help`.
    public let summary: String
    /// The README's richer "meaning" cell, if any.
    public let readme: String?

    /// The same document with another default shown (the port, whose default is the binary's).
    public func showing(_ shownDefault: SettingDefault) -> SettingDocument {
        SettingDocument(setting: setting, repeatable: repeatable, shownDefault: shownDefault, valueName: valueName, summary: summary, readme: readme)
    }

    /// `Summary (env CITYSCAPE_X, default Y).`, the abstract `--help` prints.
    public var helpText: String {
        var note = "env \(setting.environmentVariable)"
        if repeatable { note += ", comma-separated" }
        switch shownDefault {
        case .value(let value): note += ", default \(value)"
        case .described(let text): note += ", default: \(text)"
        case .none: break
        }
        return "\(summary) (\(note))."
    }

    /// The ArgumentParser help of the flag.
    public var help: ArgumentHelp { ArgumentHelp(helpText, valueName: valueName) }
}
