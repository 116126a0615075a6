import ArgumentParser
import CityscapeKit
import Configuration
import Hummingbird

/// `cityscape-location`: postal code + country → coordinates, from the bundled GeoNames table.
@main
struct LocationMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: LocationIdentity.name,
        abstract: "Postal code + country to latitude/longitude, from GeoNames open data (no network).",
        discussion: "Serves GET /api/location/{postal_code}/{country}, /healthz and /metrics."
    )

    @OptionGroup var server: ServerOptions<LocationIdentity>

    @Option(help: LocationSettings.postalData.help) var postalData: String?

    /// The values given on the command line, shared and the location service's own.
    var configValues: [AbsoluteConfigKey: ConfigValue] { server.configValues.merging(commandLineValues(declared: LocationSettings.all)) { $1 } }

    func run() async throws {
        let (configuration, logger) = try LocationIdentity.start(commandLine: configValues, logLevel: \.server.logLevel) {
            settings throws(ConfigurationError) in
            try LocationConfiguration(settings: settings)
        }
        let app = try buildApplication(configuration: configuration, logger: logger)
        try await ServiceApplication.run(app, configuration: configuration.server, logger: logger)
    }
}

/// The location service's name and default port.
enum LocationIdentity: ServiceIdentity {
    static let name = "cityscape-location"
    static let defaultPort = 8001
}
