import ArgumentParser
import CityscapeKit
import Configuration

/// The proxy's own flags; values stay strings and are validated by `ProxyConfiguration`, so flags and
/// environment variables get the same messages.
struct ProxyOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Backend HOST:PORT, or 'HOST:PORT weight=N' (1-100, default 1); repeat for several (env CITYSCAPE_BACKENDS, comma-separated).",
            valueName: "host:port"
        )
    )
    var backend: [String] = []

    @Option(
        help: ArgumentHelp("File with one HOST:PORT [weight=N] per line, re-read on SIGHUP (env CITYSCAPE_BACKENDS_FILE).", valueName: "path")
    )
    var backendsFile: String?

    @Option(
        help: ArgumentHelp(
            "round-robin (smooth weighted), least-outstanding or p2c (env CITYSCAPE_BALANCE, default round-robin).",
            valueName: "policy"
        )
    )
    var balance: String?

    @Option(
        help: ArgumentHelp(
            "A backend (re)joining rotation ramps from 10% to full weight over this time (env CITYSCAPE_SLOW_START, default off).",
            valueName: "duration"
        )
    )
    var slowStart: String?

    @Option(help: ArgumentHelp("Admin listener HOST:PORT or off (env CITYSCAPE_ADMIN, default 127.0.0.1:8081).", valueName: "host:port"))
    var admin: String?

    @Option(help: ArgumentHelp("Path of the active health check (env CITYSCAPE_HEALTH_PATH, default /healthz).", valueName: "path"))
    var healthPath: String?

    @Option(help: ArgumentHelp("Time between health checks (env CITYSCAPE_HEALTH_INTERVAL, default 1s).", valueName: "duration"))
    var healthInterval: String?

    @Option(help: ArgumentHelp("Passing checks that bring an ejected backend back (env CITYSCAPE_RISE, default 1).", valueName: "n"))
    var rise: String?

    @Option(help: ArgumentHelp("Consecutive failures that eject a backend (env CITYSCAPE_FALL, default 2).", valueName: "n"))
    var fall: String?

    @Option(help: ArgumentHelp("Other backends tried after a retryable failure (env CITYSCAPE_RETRIES, default 2).", valueName: "n"))
    var retries: String?

    @Option(help: ArgumentHelp("Backend connect timeout (env CITYSCAPE_CONNECT_TIMEOUT, default 1s).", valueName: "duration"))
    var connectTimeout: String?

    @Option(
        help: ArgumentHelp(
            "Wait for a response head once the request is sent, and between body reads; then 504 (env CITYSCAPE_BACKEND_TIMEOUT, default 30s).",
            valueName: "duration"
        )
    )
    var backendTimeout: String?

    @Option(
        help: ArgumentHelp(
            "Idle keep-alive connections kept per backend; busy ones are not capped (env CITYSCAPE_POOL_SIZE, default 256).",
            valueName: "n"
        )
    )
    var poolSize: String?

    @Option(help: ArgumentHelp("Largest request head; larger gets 431 (env CITYSCAPE_MAX_HEADER_BYTES, default 16384).", valueName: "bytes"))
    var maxHeaderBytes: String?

    @Option(help: ArgumentHelp("Largest request body; larger gets 413 (env CITYSCAPE_MAX_BODY_BYTES, default 10485760).", valueName: "bytes"))
    var maxBodyBytes: String?

    @Option(
        help: ArgumentHelp("Idle client keep-alive connections are closed after it (env CITYSCAPE_IDLE_TIMEOUT, default 60s).", valueName: "duration")
    )
    var idleTimeout: String?

    @Option(help: ArgumentHelp("Client connections served at once; more get 503 (env CITYSCAPE_MAX_CONNECTIONS, default 10000).", valueName: "n"))
    var maxConnections: String?

    @Option(
        help: ArgumentHelp(
            "From a request's first byte to its complete head; then 408 (env CITYSCAPE_HEADER_TIMEOUT, default 10s).",
            valueName: "duration"
        )
    )
    var headerTimeout: String?

    @Option(
        help: ArgumentHelp(
            "Longest pause while reading a request body; then the connection closes (env CITYSCAPE_BODY_TIMEOUT, default 30s).",
            valueName: "duration"
        )
    )
    var bodyTimeout: String?

    init() {}

    /// The values given on the command line, for the provider that sits before the environment.
    var configValues: [AbsoluteConfigKey: ConfigValue] {
        typealias Keys = ProxyConfiguration
        return ServerSettings.commandLineValues([
            (Keys.backends, backend.isEmpty ? nil : backend.joined(separator: ",")), (Keys.backendsFile, backendsFile), (Keys.admin, admin),
            (Keys.healthPath, healthPath), (Keys.healthInterval, healthInterval), (Keys.rise, rise), (Keys.fall, fall),
            (Keys.retries, retries), (Keys.connectTimeout, connectTimeout), (Keys.backendTimeout, backendTimeout), (Keys.poolSize, poolSize),
            (Keys.maxHeaderBytes, maxHeaderBytes), (Keys.maxBodyBytes, maxBodyBytes),
            (Keys.idleTimeout, idleTimeout),
            (Keys.maxConnections, maxConnections), (Keys.headerTimeout, headerTimeout), (Keys.bodyTimeout, bodyTimeout),
            (Keys.balance, balance), (Keys.slowStart, slowStart),
        ])
    }
}
