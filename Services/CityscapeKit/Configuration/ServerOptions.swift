public import ArgumentParser
public import Configuration
public import Logging

/// The flags every Cityscape service accepts; each line only binds a declaration of `ServerSettings`.
///
/// Values are kept as strings and validated by `ServerConfiguration(settings:)`, so a bad value gets the
/// same message whether it came from a flag or from an environment variable.
public struct ServerOptions<Service: ServiceIdentity>: ParsableArguments {
    @Option(help: ServerSettings.host.help) var host: String?
    @Option(help: ServerSettings.port(of: Service.self).help) var port: String?
    @Option(help: ServerSettings.logLevel.help) var logLevel: String?
    @Option(help: ServerSettings.latency.help) var latency: String?
    @Option(help: ServerSettings.drainTimeout.help) var drainTimeout: String?
    @Option(help: ServerSettings.maxConnections.help) var maxConnections: String?

    public init() {}

    /// The values given on the command line, keyed for the in-memory provider that sits before the environment.
    public var configValues: [AbsoluteConfigKey: ConfigValue] { commandLineValues(declared: ServerSettings.all) }
}

/// The settings shared by every service.
public enum ServerSettings {
    public static let host = SettingDeclaration(
        "host",
        default: "127.0.0.1",
        valueName: "address",
        help: "Address to bind",
        readme: "address to bind",
        parser: .text
    )
    /// The default is the binary's (`ServiceIdentity.defaultPort`), so it is nil here.
    public static let port = SettingDeclaration(
        "port",
        default: Int?.none,
        shown: .described("the binary's, in the heading of its table below"),
        valueName: "port",
        help: "Port to listen on; 0 picks a free port",
        readme: "port; `0` picks a free one (the `listening on http://HOST:PORT` line tells which)",
        parser: SettingParser.integer(in: 0...65535).optional
    )
    public static let logLevel = SettingDeclaration(
        "log-level",
        default: Logger.Level.info,
        valueName: "level",
        help: "trace, debug, info, notice, warning, error or critical",
        readme: "`trace` … `critical`",
        parser: .choice
    )
    public static let latency = SettingDeclaration(
        "latency",
        default: Duration.zero,
        valueName: "duration",
        help: "Simulated slowness added to every API request, e.g. 500ms; health and metrics are never delayed",
        readme: "simulated slowness added to API routes only (`500ms`, `1s`; max 60s) — the slow upstream of the lesson",
        parser: .duration(in: .zero ... .seconds(60))
    )
    public static let drainTimeout = SettingDeclaration(
        "drain-timeout",
        default: Duration.seconds(10),
        valueName: "duration",
        help: "On SIGTERM or SIGINT, how long in-flight requests may take to finish",
        readme: "on SIGTERM/SIGINT, how long requests in flight may take to finish",
        parser: .duration(in: .zero ... .seconds(3600))
    )

    /// Also the proxy's: every listener of the stack bounds its client connections the same way.
    public static let maxConnections = SettingDeclaration(
        "max-connections",
        default: ConnectionPolicy().maxConnections,
        valueName: "n",
        help: "Client connections served at once; more get 503",
        readme: "client connections served at once; more get 503 with `Retry-After`",
        parser: .integer(in: 1...1_000_000)
    )

    /// Every shared setting, in the order of `--help` and the README.
    public static let all = [
        host.document, port.document, logLevel.document, latency.document, drainTimeout.document, maxConnections.document,
    ]

    /// The port as one binary shows it: with that binary's default.
    public static func port<Service: ServiceIdentity>(of service: Service.Type) -> SettingDocument {
        port.document.showing(.value(String(Service.defaultPort)))
    }

    /// The shared settings as one binary's `--help` shows them.
    public static func documents<Service: ServiceIdentity>(of service: Service.Type) -> [SettingDocument] {
        all.map { $0.setting == port.setting ? port(of: service) : $0 }
    }

    /// Turns flag values into config values, skipping flags that were not given (tests and embedding).
    public static func commandLineValues(_ pairs: [(any SettingReference, String?)]) -> [AbsoluteConfigKey: ConfigValue] {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (reference, value) in pairs {
            if let value { values[reference.setting.absoluteConfigKey] = ConfigValue(.string(value), isSecret: false) }
        }
        return values
    }
}
