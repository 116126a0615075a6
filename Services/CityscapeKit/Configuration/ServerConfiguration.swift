public import Logging

/// The validated settings every service needs to start its HTTP server.
///
/// ## Configuration keys
/// | flag | environment | default | meaning |
/// |---|---|---|---|
/// | `--host` | `CITYSCAPE_HOST` | `127.0.0.1` | address to bind |
/// | `--port` | `CITYSCAPE_PORT` | per service | port; `0` picks a free one |
/// | `--log-level` | `CITYSCAPE_LOG_LEVEL` | `info` | swift-log level |
/// | `--latency` | `CITYSCAPE_LATENCY` | `0` | simulated slowness of API routes (max 60s) |
/// | `--drain-timeout` | `CITYSCAPE_DRAIN_TIMEOUT` | `10s` | on SIGTERM/SIGINT, how long in-flight requests may take |
public struct ServerConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    public var latency: Duration
    /// Bounds the graceful shutdown, so a deep queue cannot outlast a supervisor's stop timeout.
    public var drainTimeout: Duration

    /// Creates a configuration directly (tests, embedding).
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        logLevel: Logger.Level = .info,
        latency: Duration = .zero,
        drainTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.logLevel = logLevel
        self.latency = latency
        self.drainTimeout = drainTimeout
    }

    /// Reads and validates the shared settings; throws on the first bad value.
    public init(settings: SettingsReader, defaultPort: Int) throws(ConfigurationError) {
        self.host = settings.string(ServerSettings.host) ?? "127.0.0.1"
        self.port = try settings.integer(ServerSettings.port, default: defaultPort, in: 0...65535)
        self.logLevel = try settings.choice(ServerSettings.logLevel, default: Logger.Level.info)
        self.latency = try settings.duration(ServerSettings.latency, default: .zero, in: .zero ... .seconds(60))
        self.drainTimeout = try settings.duration(ServerSettings.drainTimeout, default: .seconds(10), in: .zero ... .seconds(3600))
    }
}
