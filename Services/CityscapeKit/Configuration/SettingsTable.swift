/// The README's settings tables, produced from the declarations so they cannot drift from `--help`.
public enum SettingsTable {
    /// A Markdown table: flag, environment variable, default, meaning; one row per setting.
    public static func markdown(_ documents: [SettingDocument]) -> String {
        var lines = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
        for document in documents {
            let setting = document.setting
            let flag = "`\(setting.flag)`" + (document.repeatable ? " (repeatable)" : "")
            let variable = "`\(setting.environmentVariable)`" + (document.repeatable ? " (comma-separated)" : "")
            let shown =
                switch document.shownDefault {
                case .value(let value): "`\(value)`"
                case .described(let text): text
                case .none: "–"
                }
            lines.append("| \(flag) | \(variable) | \(shown) | \(document.readme ?? sentenceCase(document.summary)) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Table cells start in lower case, like the README's prose; an acronym (`PEM`, `HOST:PORT`) keeps its case.
    private static func sentenceCase(_ text: String) -> String {
        guard let first = text.first, let second = text.dropFirst().first, second.isLowercase else { return text }
        return first.lowercased() + text.dropFirst()
    }
}
