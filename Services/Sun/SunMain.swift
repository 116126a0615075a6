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
        let configuration = try ConfigurationError.asValidationError { () throws(ConfigurationError) in
            try ServerConfiguration(settings: SettingsReader(commandLine: server.configValues), defaultPort: SunIdentity.defaultPort)
        }
        LoggingSetup.bootstrap(level: configuration.logLevel)
        let logger = LoggingSetup.logger(for: SunIdentity.name, level: configuration.logLevel)
        let app = buildApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }
}

/// The sun service's name and default port.
enum SunIdentity: ServiceIdentity {
    static let name = "cityscape-sun"
    static let defaultPort = 8002
}
