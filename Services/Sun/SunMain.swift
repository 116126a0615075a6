import ArgumentParser
import CityscapeKit
import Hummingbird

/// `cityscape-sun`: sunrise, sunset and twilights for a place and date, like the sunrise-sunset.org API.
@main
struct SunMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: SunIdentity.name,
        abstract: "Sunrise, sunset, solar noon and twilights computed offline, answering like api.sunrise-sunset.org.",
        discussion: "Serves GET /json?lat=&lng=[&date=][&formatted=][&tzid=][&callback=], /healthz and /metrics."
    )

    @OptionGroup var server: ServerOptions<SunIdentity>

    func run() async throws {
        let (configuration, logger) = try SunIdentity.start(commandLine: server.configValues, logLevel: \.logLevel) {
            settings throws(ConfigurationError) in
            try ServerConfiguration(settings: settings, defaultPort: SunIdentity.defaultPort)
        }
        let app = buildApplication(configuration: configuration, logger: logger)
        try await ServiceApplication.run(app, configuration: configuration, logger: logger)
    }
}

/// The sun service's name and default port.
enum SunIdentity: ServiceIdentity {
    static let name = "cityscape-sun"
    static let defaultPort = 8002
}
