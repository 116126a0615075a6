import CityscapeKit
import Foundation

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
/// The shared server keys (`ServerConfiguration`, default port 8000), plus:
/// | flag | environment | default | meaning |
/// |---|---|---|---|
/// | `--mode` | `CITYSCAPE_MODE` | `async` | `async` or `blocking` |
/// | `--workers` | `CITYSCAPE_WORKERS` | `1` | blocking: worker threads (1–1024) |
/// | `--queue-limit` | `CITYSCAPE_QUEUE_LIMIT` | `1024` | blocking: requests waiting for a worker, or `auto` (follows latency); beyond it 503 |
/// | `--max-in-flight` | `CITYSCAPE_MAX_IN_FLIGHT` | `10000` | async: requests handled at once, a number or `auto` (follows latency); beyond it 503 |
/// | `--max-in-flight-ceiling` | `CITYSCAPE_MAX_IN_FLIGHT_CEILING` | `10000` | the most an `auto` limit may reach (in flight, or waiting in blocking mode) |
/// | `--location-url` | `CITYSCAPE_LOCATION_URL` | `http://127.0.0.1:8001` | location service base URL |
/// | `--sun-url` | `CITYSCAPE_SUN_URL` | `http://127.0.0.1:8002` | sun service (or sunrise-sunset.org) base URL |
/// | `--ca-file` | `CITYSCAPE_CA_FILE` | system store | PEM CAs trusted for https upstreams |
/// | `--upstream-timeout` | `CITYSCAPE_UPSTREAM_TIMEOUT` | `5s` | connect + whole request, per upstream call |
/// | `--cache-ttl` | `CITYSCAPE_CACHE_TTL` | `0` (off) | lifetime of cached upstream answers |
/// | `--cache-size` | `CITYSCAPE_CACHE_SIZE` | `10000` | entries per cache (location, sun), LRU |
struct GatewayConfiguration: Sendable {
    static let mode = Setting("mode")
    static let workers = Setting("workers")
    static let queueLimit = Setting("queue-limit")
    static let maxInFlight = Setting("max-in-flight")
    static let maxInFlightCeiling = Setting("max-in-flight-ceiling")
    static let locationURL = Setting("location-url")
    static let sunURL = Setting("sun-url")
    static let caFile = Setting("ca-file")
    static let upstreamTimeout = Setting("upstream-timeout")
    static let cacheTTL = Setting("cache-ttl")
    static let cacheSize = Setting("cache-size")

    static let defaultQueueLimit = 1024
    static let defaultMaxInFlight = 10_000
    static let defaultMaxInFlightCeiling = 10_000
    static let defaultCacheSize = 10_000

    var server: ServerConfiguration
    var mode: GatewayMode = .async
    var workers = 1
    var queueLimit = LimitSetting.fixed(defaultQueueLimit)
    var maxInFlight = LimitSetting.fixed(defaultMaxInFlight)
    /// The highest value an `auto` limit may take.
    var maxInFlightCeiling = defaultMaxInFlightCeiling
    /// Without a trailing slash, so paths append cleanly.
    var locationURL = "http://127.0.0.1:8001"
    var sunURL = "http://127.0.0.1:8002"
    var caFile: String?
    var upstreamTimeout: Duration = .seconds(5)
    /// Zero turns the cache off.
    var cacheTTL: Duration = .zero
    var cacheSize = defaultCacheSize

    /// A configuration for tests and embedding.
    init(server: ServerConfiguration = ServerConfiguration()) {
        self.server = server
    }

    init(settings: SettingsReader) throws(ConfigurationError) {
        server = try ServerConfiguration(settings: settings, defaultPort: GatewayIdentity.defaultPort)
        mode = try settings.choice(Self.mode, default: GatewayMode.async)
        workers = try settings.integer(Self.workers, default: 1, in: 1...1024)
        queueLimit = try Self.limit(settings, Self.queueLimit, default: .fixed(Self.defaultQueueLimit), in: 0...1_000_000)
        maxInFlight = try Self.limit(settings, Self.maxInFlight, default: .fixed(Self.defaultMaxInFlight), in: 1...1_000_000)
        maxInFlightCeiling = try settings.integer(Self.maxInFlightCeiling, default: Self.defaultMaxInFlightCeiling, in: 1...1_000_000)
        locationURL = try Self.baseURL(settings, Self.locationURL, default: locationURL)
        sunURL = try Self.baseURL(settings, Self.sunURL, default: sunURL)
        if let path = settings.string(Self.caFile) {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(setting: Self.caFile, value: path, expected: "a readable PEM file of CA certificates")
            }
            caFile = path
        }
        upstreamTimeout = try settings.duration(Self.upstreamTimeout, default: .seconds(5), in: .milliseconds(1) ... .seconds(300))
        cacheTTL = try settings.duration(Self.cacheTTL, default: .zero, in: .zero ... .seconds(86_400))
        cacheSize = try settings.integer(Self.cacheSize, default: Self.defaultCacheSize, in: 1...10_000_000)
    }

    /// `auto` or an integer within `range`.
    static func limit(_ settings: SettingsReader, _ setting: Setting, default defaultValue: LimitSetting, in range: ClosedRange<Int>)
        throws(ConfigurationError) -> LimitSetting
    {
        try settings.value(setting, default: defaultValue, expected: "auto or an integer from \(range.lowerBound) to \(range.upperBound)") { raw in
            LimitSetting(raw, in: range)
        }
    }

    /// The most requests the async gateway may hold at once: the fixed limit, or the ceiling of `auto`.
    var inFlightBound: Int {
        switch maxInFlight {
        case .fixed(let value): value
        case .auto: maxInFlightCeiling
        }
    }

    /// An `http://` or `https://` URL with a host; a trailing slash is dropped.
    static func baseURL(_ settings: SettingsReader, _ setting: Setting, default defaultValue: String) throws(ConfigurationError) -> String {
        try settings.value(setting, default: defaultValue, expected: "an http:// or https:// URL such as http://127.0.0.1:8001") { raw in
            guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
                let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil
            else { return nil }
            var url = raw
            while url.hasSuffix("/") { url.removeLast() }
            return url
        }
    }
}
