import ArgumentParser
import CityscapeKit
import Configuration

/// The gateway's own flags; kept as strings and validated by `GatewayConfiguration`, like the shared ones.
struct GatewayOptions: ParsableArguments {
    @Option(help: ArgumentHelp("async or blocking (env CITYSCAPE_MODE, default async).", valueName: "mode"))
    var mode: String?

    @Option(help: ArgumentHelp("Blocking mode: worker threads (env CITYSCAPE_WORKERS, default 1).", valueName: "n"))
    var workers: String?

    @Option(
        help: ArgumentHelp(
            "Blocking mode: requests that may wait for a worker, or auto to follow latency; beyond it 503 (env CITYSCAPE_QUEUE_LIMIT, default \(GatewayConfiguration.defaultQueueLimit)).",
            valueName: "n|auto"
        )
    )
    var queueLimit: String?

    @Option(
        help: ArgumentHelp(
            "Async mode: requests handled at once, or auto to follow latency; beyond it 503 (env CITYSCAPE_MAX_IN_FLIGHT, default \(GatewayConfiguration.defaultMaxInFlight)).",
            valueName: "n|auto"
        )
    )
    var maxInFlight: String?

    @Option(
        help: ArgumentHelp(
            "The most an auto limit may reach (env CITYSCAPE_MAX_IN_FLIGHT_CEILING, default \(GatewayConfiguration.defaultMaxInFlightCeiling)).",
            valueName: "n"
        )
    )
    var maxInFlightCeiling: String?

    @Option(
        name: .customLong("location-url"),
        help: ArgumentHelp("Base URL of the location service (env CITYSCAPE_LOCATION_URL, default http://127.0.0.1:8001).", valueName: "url")
    )
    var locationURL: String?

    @Option(
        name: .customLong("sun-url"),
        help: ArgumentHelp("Base URL of the sun service (env CITYSCAPE_SUN_URL, default http://127.0.0.1:8002).", valueName: "url")
    )
    var sunURL: String?

    @Option(
        help: ArgumentHelp("PEM file of CAs to trust for https upstreams instead of the system store (env CITYSCAPE_CA_FILE).", valueName: "path")
    )
    var caFile: String?

    @Option(
        help: ArgumentHelp("Connect + whole-request limit per upstream call (env CITYSCAPE_UPSTREAM_TIMEOUT, default 5s).", valueName: "duration")
    )
    var upstreamTimeout: String?

    @Option(
        name: .customLong("cache-ttl"),
        help: ArgumentHelp("How long upstream answers are cached; 0 = off (env CITYSCAPE_CACHE_TTL, default 0).", valueName: "duration")
    )
    var cacheTTL: String?

    @Option(
        help: ArgumentHelp(
            "Most answers kept per cache, least recently used evicted (env CITYSCAPE_CACHE_SIZE, default \(GatewayConfiguration.defaultCacheSize)).",
            valueName: "n"
        )
    )
    var cacheSize: String?

    /// The values given on the command line, keyed for the in-memory provider that sits before the environment.
    var configValues: [AbsoluteConfigKey: ConfigValue] {
        typealias Keys = GatewayConfiguration
        return ServerSettings.commandLineValues([
            (Keys.mode, mode), (Keys.workers, workers), (Keys.queueLimit, queueLimit), (Keys.maxInFlight, maxInFlight),
            (Keys.maxInFlightCeiling, maxInFlightCeiling), (Keys.locationURL, locationURL), (Keys.sunURL, sunURL), (Keys.caFile, caFile),
            (Keys.upstreamTimeout, upstreamTimeout),
            (Keys.cacheTTL, cacheTTL), (Keys.cacheSize, cacheSize),
        ])
    }
}
