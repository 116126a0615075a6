public import Logging

/// The validated settings every service needs to start its HTTP server.
///
/// ## Configuration keys
/// Declared in `ServerSettings` (`--host`, `--port`, `--log-level`, `--latency`, `--drain-timeout`,
/// `--max-connections`); the
/// README's table is produced from those declarations.
public struct ServerConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    public var latency: Duration
    /// Bounds the graceful shutdown, so a deep queue cannot outlast a supervisor's stop timeout.
    public var drainTimeout: Duration
    /// Client connections served at once; the next one is answered 503 `too_many_connections` and closed.
    public var maxConnections: Int

    /// Creates a configuration directly (tests, embedding).
    public init(
        host: String = ServerSettings.host.defaultValue,
        port: Int = 0,
        logLevel: Logger.Level = ServerSettings.logLevel.defaultValue,
        latency: Duration = ServerSettings.latency.defaultValue,
        drainTimeout: Duration = ServerSettings.drainTimeout.defaultValue,
        maxConnections: Int = ServerSettings.maxConnections.defaultValue
    ) {
        self.host = host
        self.port = port
        self.logLevel = logLevel
        self.latency = latency
        self.drainTimeout = drainTimeout
        self.maxConnections = maxConnections
    }

    /// Reads and validates the shared settings; throws on the first bad value.
    public init(settings: SettingsReader, defaultPort: Int) throws(ConfigurationError) {
        self.host = try settings.value(ServerSettings.host)
        self.port = try settings.value(ServerSettings.port) ?? defaultPort
        self.logLevel = try settings.value(ServerSettings.logLevel)
        self.latency = try settings.value(ServerSettings.latency)
        self.drainTimeout = try settings.value(ServerSettings.drainTimeout)
        self.maxConnections = try settings.value(ServerSettings.maxConnections)
    }
}
