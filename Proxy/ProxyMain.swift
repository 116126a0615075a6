import ArgumentParser
import CityscapeKit
import Configuration

/// `cityscape-proxy`: a load-balancing HTTP/1.1 reverse proxy with health checks and safe retries.
@main
struct ProxyMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ProxyIdentity.name,
        abstract:
            "Load-balancing reverse proxy (round-robin, least-outstanding or p2c, weighted) over healthy backends, with active and passive health checks and safe retries.",
        discussion: "Forwards every request on --host/--port; GET /status, /metrics and /healthz on --admin. SIGHUP re-reads --backends-file."
    )

    @OptionGroup var server: ServerOptions<ProxyIdentity>
    @OptionGroup var proxy: ProxyOptions

    /// The values given on the command line, shared and the proxy's own.
    var configValues: [AbsoluteConfigKey: ConfigValue] { server.configValues.merging(proxy.configValues) { $1 } }

    func run() async throws {
        let (configuration, logger) = try ProxyIdentity.start(commandLine: configValues, logLevel: \.server.logLevel) {
            settings throws(ConfigurationError) in
            try ProxyConfiguration(settings: settings)
        }
        try await ProxyApplication(configuration: configuration, logger: logger).run()
    }
}

/// The proxy's name and default port.
enum ProxyIdentity: ServiceIdentity {
    static let name = "cityscape-proxy"
    static let defaultPort = 8080
}
