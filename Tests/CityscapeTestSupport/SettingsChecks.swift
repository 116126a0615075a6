public import ArgumentParser
public import CityscapeKit
public import Configuration
import Foundation
import Synchronization

/// Checks that tie a binary's setting declarations to its `--help`, its option properties and the README.
///
/// The README's settings tables sit between `<!-- settings:NAME -->` and `<!-- /settings:NAME -->`; a test
/// renders each from the declarations and compares. With `CITYSCAPE_UPDATE_README=1` the test writes the
/// rendered table into the README instead, which is how the tables are regenerated after a change.
public enum SettingsChecks {
    /// The long flags `--help` lists, other than `--help` itself.
    public static func helpFlags(of command: any ParsableCommand.Type) -> Set<String> {
        var flags: Set<String> = []
        for line in command.helpMessage(columns: 10_000).split(separator: "\n") {
            // An option line starts with its names (`  -h, --help`, `  --port <port>`); description lines do not.
            let words = line.split(separator: " ").drop(while: { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.hasSuffix(",") })
            guard line.hasPrefix("  "), let flag = words.first, flag.hasPrefix("--") else { continue }
            if flag != "--help" { flags.insert(String(flag)) }
        }
        return flags
    }

    /// What is wrong between `--help` and the declarations: a flag without a declaration, a declaration
    /// without a flag, or a help text other than the declared one. Empty when they agree.
    public static func helpProblems(of command: any ParsableCommand.Type, declared: [SettingDocument]) -> [String] {
        let help = normalized(command.helpMessage(columns: 10_000))
        let flags = helpFlags(of: command)
        let declaredFlags = Set(declared.map(\.setting.flag))
        var problems = flags.subtracting(declaredFlags).sorted().map { "\($0) is in --help but has no declaration" }
        problems += declaredFlags.subtracting(flags).sorted().map { "\($0) is declared but not in --help" }
        for document in declared where !help.contains(normalized("\(document.setting.flag) <\(document.valueName)>")) {
            problems.append("\(document.setting.flag) does not show its value name <\(document.valueName)>")
        }
        for document in declared where !help.contains(normalized(document.helpText)) {
            problems.append("\(document.setting.flag): --help lacks the declared text '\(document.helpText)'")
        }
        return problems
    }

    /// Parses `FLAG x` for every declaration and checks that `values` hands exactly `x` to that setting, so
    /// every option line reaches its declaration (and no other). Empty when all do.
    public static func routingProblems<Command: ParsableArguments>(
        _ command: Command.Type,
        declared: [SettingDocument],
        values: (Command) -> [AbsoluteConfigKey: ConfigValue]
    ) throws -> [String] {
        var problems: [String] = []
        for document in declared {
            let given = values(try Command.parse([document.setting.flag, "x"]))
            let read = SettingsReader(commandLine: given, environment: [:]).string(document.setting)
            if read != "x" || given.count != 1 {
                problems.append("\(document.setting.flag) x reached \(given.count) values, \(document.setting) read \(read ?? "nothing")")
            }
        }
        return problems
    }

    /// A README section: its heading line, then the table of `documents` (if any).
    public static func section(_ heading: String, _ documents: [SettingDocument]) -> String {
        documents.isEmpty ? heading : heading + "\n\n" + SettingsTable.markdown(documents)
    }

    /// Compares the README block `name` with `rendered`; nil when equal. With `CITYSCAPE_UPDATE_README=1`
    /// writes `rendered` into the block and returns nil.
    public static func readmeProblem(block name: String, rendered: String) throws -> String? {
        try readmeLock.withLock { _ in
            let url = BuildProducts.repositoryRoot.appendingPathComponent("README.md")
            let text = try String(contentsOf: url, encoding: .utf8)
            let open = "<!-- settings:\(name) -->\n", close = "<!-- /settings:\(name) -->"
            guard let start = text.range(of: open), let end = text.range(of: close, range: start.upperBound..<text.endIndex) else {
                return "README.md has no block \(open.dropLast())…\(close)"
            }
            if text[start.upperBound..<end.lowerBound] == rendered + "\n" { return nil }
            if ProcessInfo.processInfo.environment["CITYSCAPE_UPDATE_README"] == "1" {
                let updated = text.replacingCharacters(in: start.upperBound..<end.lowerBound, with: rendered + "\n")
                try updated.write(to: url, atomically: true, encoding: .utf8)
                return nil
            }
            return "README block settings:\(name) differs from the declarations; expected:\n\(rendered)\n"
                + "(regenerate: CITYSCAPE_UPDATE_README=1 swift test --filter Settings)"
        }
    }

    /// Suites run in parallel, and several may rewrite the README in update mode.
    private static let readmeLock = Mutex(())

    private static func normalized(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
