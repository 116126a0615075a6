import CityscapeKit
import Foundation

/// The location service's one setting beyond the shared `ServerSettings`, declared once: `--help`, the
/// environment lookup, the error message and the README's "Location only" table come from here.
///
/// Adding a setting: declare it here and list it in `all`; add its `@Option(help: LocationSettings.x.help)
/// var x: String?` line to `LocationMain`; read it in `LocationConfiguration` with `settings.value(LocationSettings.x)`;
/// regenerate the README table (`CITYSCAPE_UPDATE_README=1 swift test --filter Settings`).
enum LocationSettings {
    static let postalData = SettingDeclaration(
        "postal-data",
        default: URL?.none,
        shown: .described("found automatically"),
        valueName: "path",
        help: "Path of postal_codes.tsv.gz",
        readme:
            "the gzipped table (its `timezones.tsv` is read from the same directory); looked for at `<bin>/../share/cityscape/postal_codes.tsv.gz`, then `Data/postal/` in the binary's directory or a parent (a checkout), then under the working directory",
        parser: SettingParser(expected: "a readable postal_codes.tsv.gz file") { path -> URL?? in
            FileManager.default.isReadableFile(atPath: path) ? .some(URL(fileURLWithPath: path)) : nil
        }
    )

    /// Every location setting, in the order of `--help` and the README.
    static let all = [postalData.document]
}

/// Settings of the location service.
///
/// ## Configuration keys
/// The shared server keys (`ServerSettings`, default port 8001), plus `LocationSettings`.
///
/// Without `--postal-data` the table is looked for, in order, at `<bin>/../share/cityscape/postal_codes.tsv.gz`
/// (the `make install` layout), then at `Data/postal/postal_codes.tsv.gz` in the binary's directory or any of
/// its parents (a source checkout: `.build/release/` sits inside the repository), then under the working directory.
struct LocationConfiguration: Sendable {
    var server: ServerConfiguration
    var postalDataURL: URL

    init(server: ServerConfiguration, postalDataURL: URL) {
        self.server = server
        self.postalDataURL = postalDataURL
    }

    init(settings: SettingsReader) throws(ConfigurationError) {
        self.server = try ServerConfiguration(settings: settings, defaultPort: LocationIdentity.defaultPort)
        if let given = try settings.value(LocationSettings.postalData) {
            self.postalDataURL = given
        } else {
            let candidates = Self.defaultPostalDataCandidates()
            guard let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0.path) }) else {
                throw ConfigurationError(
                    "postal data not found; pass \(LocationSettings.postalData.setting) PATH. Looked at: "
                        + candidates.map(\.path).joined(separator: ", ")
                )
            }
            self.postalDataURL = found
        }
    }

    static func defaultPostalDataCandidates() -> [URL] {
        let relative = "Data/postal/postal_codes.tsv.gz"
        var candidates: [URL] = []
        if let binary = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            candidates.append(binary.appendingPathComponent("../share/cityscape/postal_codes.tsv.gz").standardizedFileURL)
            var directory = binary
            for _ in 0..<6 {
                candidates.append(directory.appendingPathComponent(relative))
                directory = directory.deletingLastPathComponent()
            }
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative))
        return candidates
    }
}
