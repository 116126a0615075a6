import CityscapeKit
import Foundation

/// Settings of the location service.
///
/// ## Configuration keys
/// The shared server keys (`ServerConfiguration`), plus:
/// | flag | environment | default | meaning |
/// |---|---|---|---|
/// | `--postal-data` | `CITYSCAPE_POSTAL_DATA` | located automatically | the gzipped GeoNames table (its `timezones.tsv` beside it) |
///
/// Without `--postal-data` the table is looked for, in order, at `<bin>/../share/cityscape/postal_codes.tsv.gz`
/// (the `make install` layout), then at `Data/postal/postal_codes.tsv.gz` in the binary's directory or any of
/// its parents (a source checkout: `.build/release/` sits inside the repository), then under the working directory.
struct LocationConfiguration: Sendable {
    static let postalData = Setting("postal-data")

    var server: ServerConfiguration
    var postalDataURL: URL

    init(server: ServerConfiguration, postalDataURL: URL) {
        self.server = server
        self.postalDataURL = postalDataURL
    }

    init(settings: SettingsReader) throws(ConfigurationError) {
        self.server = try ServerConfiguration(settings: settings, defaultPort: LocationIdentity.defaultPort)
        if let path = settings.string(Self.postalData) {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(setting: Self.postalData, value: path, expected: "a readable postal_codes.tsv.gz file")
            }
            self.postalDataURL = URL(fileURLWithPath: path)
        } else {
            let candidates = Self.defaultPostalDataCandidates()
            guard let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0.path) }) else {
                throw ConfigurationError(
                    "postal data not found; pass \(Self.postalData) PATH. Looked at: " + candidates.map(\.path).joined(separator: ", ")
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
