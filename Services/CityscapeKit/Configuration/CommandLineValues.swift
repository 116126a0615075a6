public import ArgumentParser
public import Configuration

/// Anything that names a setting: the setting itself or its declaration.
public protocol SettingReference: Sendable {
    /// The name, flag and environment variable.
    var setting: Setting { get }
}

extension Setting: SettingReference {
    public var setting: Setting { self }
}

extension SettingDeclaration: SettingReference {}

extension ParsableArguments {
    /// The values of this group's `@Option`s that were given, keyed for the in-memory provider that sits
    /// before the environment.
    ///
    /// Options are matched to `declared` by property name (`maxInFlight` ↔ `max-in-flight`), the rule
    /// ArgumentParser itself uses to name the flag; so an option line carries no key of its own, and a
    /// test per binary checks that every option has its declaration and every declaration its option.
    /// An option missing from `declared` is keyed by its kebab-case property name, which is its
    /// declaration's key unless the flag is named differently, so the omission fails that test, not the process.
    public func commandLineValues(declared: [SettingDocument]) -> [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for child in Mirror(reflecting: self).children {
            guard let label = child.label, label.hasPrefix("_") else { continue }
            let given: String?
            switch child.value {
            case let option as Option<String?>: given = option.wrappedValue
            case let option as Option<[String]>: given = option.wrappedValue.isEmpty ? nil : option.wrappedValue.joined(separator: ",")
            default: continue
            }
            let property = String(label.dropFirst())
            let setting = declared.first(where: { $0.setting.propertyName == property })?.setting ?? Setting(Self.kebabCase(property))
            if let given { values[setting.absoluteConfigKey] = ConfigValue(.string(given), isSecret: false) }
        }
        return values
    }

    /// `maxInFlight` → `max-in-flight`.
    private static func kebabCase(_ property: String) -> String {
        property.reduce(into: "") { result, character in
            if character.isUppercase { result += "-" }
            result += character.lowercased()
        }
    }
}
