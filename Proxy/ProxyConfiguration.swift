import CityscapeKit

/// Settings of the reverse proxy.
///
/// ## Configuration keys
/// The shared server keys (`ServerSettings`, default port 8080, including `--drain-timeout`), plus those
/// declared in `ProxySettings`; the README's "Proxy only" table is produced from those declarations.
struct ProxyConfiguration: Sendable {
    var server: ServerConfiguration
    var backends: [WeightedBackend] = []
    var backendsFile: String?
    var balance = ProxySettings.balance.defaultValue
    /// nil when off.
    var slowStart = ProxySettings.slowStart.defaultValue
    /// nil when off.
    var outlierEjection = ProxySettings.outlierLatency.defaultValue
    /// nil when the admin listener is off.
    var admin = ProxySettings.admin.defaultValue
    var health = HealthPolicy()
    var retries = ProxySettings.retries.defaultValue
    var connectTimeout = ProxySettings.connectTimeout.defaultValue
    var backendTimeout = ProxySettings.backendTimeout.defaultValue
    var poolSize = ProxySettings.poolSize.defaultValue
    var limits = RequestLimits()
    var idleTimeout = ProxySettings.idleTimeout.defaultValue
    /// Client connection limits and timeouts; its `onReject` is set by the application.
    var connections = ConnectionPolicy()

    /// A configuration for tests and embedding.
    init(server: ServerConfiguration = ServerConfiguration(), backends: [BackendAddress] = []) {
        self.server = server
        self.backends = backends.map { WeightedBackend($0) }
    }

    init(settings: SettingsReader) throws(ConfigurationError) {
        server = try ServerConfiguration(settings: settings, defaultPort: ProxyIdentity.defaultPort)
        backends = try settings.value(ProxySettings.backends)
        if let file = try settings.value(ProxySettings.backendsFile) {
            backendsFile = file.path
            backends += file.backends
        }
        guard !backends.isEmpty else {
            throw ConfigurationError("no backends: give --backend HOST:PORT (repeatable) or --backends-file PATH")
        }
        balance = try settings.value(ProxySettings.balance)
        slowStart = try settings.value(ProxySettings.slowStart)
        outlierEjection = try settings.value(ProxySettings.outlierLatency)
        admin = try settings.value(ProxySettings.admin)
        health.path = try settings.value(ProxySettings.healthPath)
        health.interval = try settings.value(ProxySettings.healthInterval)
        health.rise = try settings.value(ProxySettings.rise)
        health.fall = try settings.value(ProxySettings.fall)
        retries = try settings.value(ProxySettings.retries)
        connectTimeout = try settings.value(ProxySettings.connectTimeout)
        backendTimeout = try settings.value(ProxySettings.backendTimeout)
        poolSize = try settings.value(ProxySettings.poolSize)
        limits.maxHeaderBytes = try settings.value(ProxySettings.maxHeaderBytes)
        limits.maxBodyBytes = try settings.value(ProxySettings.maxBodyBytes)
        idleTimeout = try settings.value(ProxySettings.idleTimeout)
        connections.maxConnections = server.maxConnections
        connections.headerTimeout = try settings.value(ProxySettings.headerTimeout)
        connections.bodyTimeout = try settings.value(ProxySettings.bodyTimeout)
        // Idle connections must be closed within the drain, or they would hold the shutdown to its end.
        connections.idleCloseGrace = min(connections.idleCloseGrace, server.drainTimeout)
    }
}

/// How active health checks run and how many results move a backend in or out of rotation.
struct HealthPolicy: Sendable, Equatable {
    var path = ProxySettings.healthPath.defaultValue
    var interval = ProxySettings.healthInterval.defaultValue
    /// Passing checks an ejected backend needs before it is routed to again. 1 by default, so a restarted
    /// backend is back within one interval of answering.
    var rise = ProxySettings.rise.defaultValue
    /// Consecutive failures that eject a healthy backend.
    var fall = ProxySettings.fall.defaultValue
}

/// Size limits on what a client may send.
struct RequestLimits: Sendable, Equatable {
    /// Request line + header block; larger → 431.
    var maxHeaderBytes = ProxySettings.maxHeaderBytes.defaultValue
    /// Larger bodies → 413.
    var maxBodyBytes = ProxySettings.maxBodyBytes.defaultValue
}
