import CityscapeKit

/// How the gateway runs its upstream calls.
enum GatewayMode: String, CaseIterable, Sendable {
    /// AsyncHTTPClient; a waiting request holds no thread (ASGI-like).
    case async
    /// libcurl on a fixed pool of threads, one request per thread at a time (WSGI-like).
    case blocking
}

/// Settings of the gateway.
///
/// ## Configuration keys
/// The shared server keys (`ServerSettings`, default port 8000), plus those declared in `GatewaySettings`;
/// the README's "Gateway only" table is produced from those declarations.
struct GatewayConfiguration: Sendable {
    var server: ServerConfiguration
    var mode = GatewaySettings.mode.defaultValue
    var workers = GatewaySettings.workers.defaultValue
    var queueLimit = GatewaySettings.queueLimit.defaultValue
    var maxInFlight = GatewaySettings.maxInFlight.defaultValue
    /// The highest value an `auto` limit may take.
    var maxInFlightCeiling = GatewaySettings.maxInFlightCeiling.defaultValue
    /// Without a trailing slash, so paths append cleanly.
    var locationURL = GatewaySettings.locationURL.defaultValue
    var sunURL = GatewaySettings.sunURL.defaultValue
    var caFile = GatewaySettings.caFile.defaultValue
    var upstreamTimeout = GatewaySettings.upstreamTimeout.defaultValue
    /// Zero turns the cache off.
    var cacheTTL = GatewaySettings.cacheTTL.defaultValue
    var cacheSize = GatewaySettings.cacheSize.defaultValue

    /// A configuration for tests and embedding.
    init(server: ServerConfiguration = ServerConfiguration()) {
        self.server = server
    }

    init(settings: SettingsReader) throws(ConfigurationError) {
        server = try ServerConfiguration(settings: settings, defaultPort: GatewayIdentity.defaultPort)
        mode = try settings.value(GatewaySettings.mode)
        workers = try settings.value(GatewaySettings.workers)
        queueLimit = try settings.value(GatewaySettings.queueLimit)
        maxInFlight = try settings.value(GatewaySettings.maxInFlight)
        maxInFlightCeiling = try settings.value(GatewaySettings.maxInFlightCeiling)
        locationURL = try settings.value(GatewaySettings.locationURL)
        sunURL = try settings.value(GatewaySettings.sunURL)
        caFile = try settings.value(GatewaySettings.caFile)
        upstreamTimeout = try settings.value(GatewaySettings.upstreamTimeout)
        cacheTTL = try settings.value(GatewaySettings.cacheTTL)
        cacheSize = try settings.value(GatewaySettings.cacheSize)
    }

    /// The most requests the async gateway may hold at once: the fixed limit, or the ceiling of `auto`.
    var inFlightBound: Int {
        switch maxInFlight {
        case .fixed(let value): value
        case .auto: maxInFlightCeiling
        }
    }
}
