public import ArgumentParser
public import Configuration

/// The flags every Cityscape service accepts, declared once.
///
/// Values are kept as strings and validated by `ServerConfiguration(settings:)`, so a bad value gets the
/// same message whether it came from a flag or from an environment variable.
public struct ServerOptions<Service: ServiceIdentity>: ParsableArguments {
    @Option(help: ArgumentHelp("Address to bind (env CITYSCAPE_HOST, default 127.0.0.1).", valueName: "address"))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on; 0 picks a free port (env CITYSCAPE_PORT, default \(Service.defaultPort)).", valueName: "port"))
    var port: String?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (env CITYSCAPE_LOG_LEVEL, default info).", valueName: "level"))
    var logLevel: String?

    @Option(
        help: ArgumentHelp(
            "Simulated slowness added to every API request, e.g. 500ms; health and metrics are never delayed (env CITYSCAPE_LATENCY, default 0).",
            valueName: "duration"
        )
    )
    var latency: String?

    @Option(
        help: ArgumentHelp(
            "On SIGTERM or SIGINT, how long in-flight requests may take to finish (env CITYSCAPE_DRAIN_TIMEOUT, default 10s).",
            valueName: "duration"
        )
    )
    var drainTimeout: String?

    public init() {}

    /// The values given on the command line, keyed for the in-memory provider that sits before the environment.
    public var configValues: [AbsoluteConfigKey: ConfigValue] {
        ServerSettings.commandLineValues([
            (ServerSettings.host, host), (ServerSettings.port, port), (ServerSettings.logLevel, logLevel), (ServerSettings.latency, latency),
            (ServerSettings.drainTimeout, drainTimeout),
        ])
    }
}

/// The settings shared by every service.
public enum ServerSettings {
    public static let host = Setting("host")
    public static let port = Setting("port")
    public static let logLevel = Setting("log-level")
    public static let latency = Setting("latency")
    public static let drainTimeout = Setting("drain-timeout")

    /// Turns parsed flags into config values, skipping flags that were not given.
    public static func commandLineValues(_ pairs: [(Setting, String?)]) -> [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (setting, value) in pairs {
            if let value { values[setting.absoluteConfigKey] = ConfigValue(.string(value), isSecret: false) }
        }
        return values
    }
}
