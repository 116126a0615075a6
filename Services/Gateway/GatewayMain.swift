import ArgumentParser
import CityscapeKit
import Configuration
import Hummingbird

/// `cityscape-gateway`: postal code + country + date → sunrise and sunset, by asking the location and sun services.
@main
struct GatewayMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: GatewayIdentity.name,
        abstract: "Sun times for a postal code: asks the location service, then the sun service; runs blocking or async.",
        discussion: "Serves GET /api/sun/{postal_code}/{country}[?date=YYYY-MM-DD], /healthz and /metrics."
    )

    @OptionGroup var server: ServerOptions<GatewayIdentity>
    @OptionGroup var gateway: GatewayOptions

    /// The values given on the command line, shared and the gateway's own.
    var configValues: [AbsoluteConfigKey: ConfigValue] { server.configValues.merging(gateway.configValues) { $1 } }

    func run() async throws {
        let (configuration, logger) = try GatewayIdentity.start(commandLine: configValues, logLevel: \.server.logLevel) {
            settings throws(ConfigurationError) in
            try GatewayConfiguration(settings: settings)
        }
        let app = buildApplication(configuration: configuration, logger: logger)
        // Async mode runs its tasks on NIO's event loops: a request, its upstream calls (EventLoopUpstream) and its
        // answer then stay on the loop that accepted the connection. Blocking mode keeps Swift's pool beside its
        // libcurl threads.
        try await ServiceApplication.run(app, configuration: configuration.server, onEventLoops: configuration.mode == .async, logger: logger)
    }
}

/// The gateway's name and default port.
enum GatewayIdentity: ServiceIdentity {
    static let name = "cityscape-gateway"
    static let defaultPort = 8000
}
