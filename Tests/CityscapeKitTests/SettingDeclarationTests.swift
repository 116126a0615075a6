import CityscapeKit
import Testing

/// The declaration type itself: what it produces for `--help`, the README and the reader.
@Suite("Setting declarations: help text, tables and parsing")
struct SettingDeclarationTests {
    enum Colour: String, CaseIterable, Sendable {
        case red, green
    }

    static let colour = SettingDeclaration("colour", default: Colour.red, valueName: "name", help: "Paint colour", parser: .choice)
    static let limit = SettingDeclaration(
        "limit",
        default: Int?.none,
        shown: .described("none"),
        valueName: "n",
        help: "A limit",
        readme: "a limit, `none` by default",
        parser: SettingParser.integer(in: 1...9).optional
    )
    static let items = SettingDeclaration(
        "items",
        flag: "item",
        repeatable: true,
        default: [String](),
        valueName: "text",
        help: "An item; repeat for several",
        parser: SettingParser(expected: "words") { $0.split(separator: ",").map(String.init) }
    )

    @Test("help text carries the environment variable and the default, produced from the declaration")
    func helpText() {
        #expect(Self.colour.document.helpText == "Paint colour (env CITYSCAPE_COLOUR, default red).")
        #expect(Self.limit.document.helpText == "A limit (env CITYSCAPE_LIMIT, default: none).")
        #expect(Self.items.document.helpText == "An item; repeat for several (env CITYSCAPE_ITEMS, comma-separated).")
        #expect(Self.items.setting.flag == "--item")
        #expect(Self.items.setting.propertyName == "item")
    }

    @Test("the README table has one row per setting, with the README text where given")
    func table() {
        let table = SettingsTable.markdown([Self.colour.document, Self.limit.document, Self.items.document])
        #expect(
            table == """
                | flag | environment | default | meaning |
                |---|---|---|---|
                | `--colour` | `CITYSCAPE_COLOUR` | `red` | paint colour |
                | `--limit` | `CITYSCAPE_LIMIT` | none | a limit, `none` by default |
                | `--item` (repeatable) | `CITYSCAPE_ITEMS` (comma-separated) | – | an item; repeat for several |
                """
        )
    }

    @Test("an optional setting still refuses a bad value instead of falling back to none")
    func optionalRefuses() throws {
        let bad = SettingsReader(commandLine: [:], environment: ["CITYSCAPE_LIMIT": "12"])
        let error = #expect(throws: ConfigurationError.self) { try bad.value(Self.limit) }
        #expect(error?.message == "invalid value '12' for --limit / CITYSCAPE_LIMIT: expected an integer from 1 to 9")
        #expect(try SettingsReader(commandLine: [:], environment: [:]).value(Self.limit) == nil)
        #expect(try SettingsReader(commandLine: [:], environment: ["CITYSCAPE_LIMIT": "3"]).value(Self.limit) == 3)
        #expect(try SettingsReader(commandLine: [:], environment: ["CITYSCAPE_COLOUR": "GREEN"]).value(Self.colour) == .green)
    }
}
