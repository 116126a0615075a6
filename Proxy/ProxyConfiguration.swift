import CityscapeKit
import Foundation

/// Settings of the reverse proxy.
///
/// ## Configuration keys
/// The shared server keys (`ServerConfiguration`, default port 8080, including `--drain-timeout`), plus:
/// | flag | environment | default | meaning |
/// |---|---|---|---|
/// | `--backend` (repeatable) | `CITYSCAPE_BACKENDS` (comma-separated) | – | backend `HOST:PORT`, optionally `HOST:PORT weight=N` (1–100, default 1) |
/// | `--backends-file` | `CITYSCAPE_BACKENDS_FILE` | – | one `HOST:PORT [weight=N]` per line (`#` comments); re-read on SIGHUP |
/// | `--balance` | `CITYSCAPE_BALANCE` | `round-robin` | `round-robin` (smooth weighted), `least-outstanding` or `p2c` |
/// | `--slow-start` | `CITYSCAPE_SLOW_START` | `off` | a backend (re)joining rotation ramps from 10 % to its full weight over this time |
/// | `--admin` | `CITYSCAPE_ADMIN` | `127.0.0.1:8081` | admin listener (`/status`, `/metrics`, `/healthz`); `off` disables |
/// | `--health-path` | `CITYSCAPE_HEALTH_PATH` | `/healthz` | path of the active check (2xx = pass) |
/// | `--health-interval` | `CITYSCAPE_HEALTH_INTERVAL` | `1s` | time between active checks of a backend |
/// | `--rise` | `CITYSCAPE_RISE` | `1` | passing checks that bring an ejected backend back |
/// | `--fall` | `CITYSCAPE_FALL` | `2` | consecutive failures (checks or requests) that eject a backend |
/// | `--retries` | `CITYSCAPE_RETRIES` | `2` | other backends tried after a retryable failure |
/// | `--connect-timeout` | `CITYSCAPE_CONNECT_TIMEOUT` | `1s` | TCP connect to a backend (and wait for a pooled connection) |
/// | `--backend-timeout` | `CITYSCAPE_BACKEND_TIMEOUT` | `30s` | until the response head once the request is sent, and between body reads → 504 |
/// | `--pool-size` | `CITYSCAPE_POOL_SIZE` | `256` | idle upstream keep-alive connections kept per backend (busy ones are not capped) |
/// | `--max-header-bytes` | `CITYSCAPE_MAX_HEADER_BYTES` | `16384` | request head larger → 431 |
/// | `--max-body-bytes` | `CITYSCAPE_MAX_BODY_BYTES` | `10485760` | request body larger → 413 |
/// | `--idle-timeout` | `CITYSCAPE_IDLE_TIMEOUT` | `60s` | idle client keep-alive connections are closed after it |
/// | `--max-connections` | `CITYSCAPE_MAX_CONNECTIONS` | `10000` | client connections served at once; more get 503 |
/// | `--header-timeout` | `CITYSCAPE_HEADER_TIMEOUT` | `10s` | first byte to complete request head, else 408 (slowloris) |
/// | `--body-timeout` | `CITYSCAPE_BODY_TIMEOUT` | `30s` | longest pause while reading a request body, else close |
struct ProxyConfiguration: Sendable {
    static let backends = Setting("backends")
    static let backendsFile = Setting("backends-file")
    static let admin = Setting("admin")
    static let healthPath = Setting("health-path")
    static let healthInterval = Setting("health-interval")
    static let rise = Setting("rise")
    static let fall = Setting("fall")
    static let retries = Setting("retries")
    static let connectTimeout = Setting("connect-timeout")
    static let backendTimeout = Setting("backend-timeout")
    static let poolSize = Setting("pool-size")
    static let maxHeaderBytes = Setting("max-header-bytes")
    static let maxBodyBytes = Setting("max-body-bytes")
    static let idleTimeout = Setting("idle-timeout")
    static let maxConnections = Setting("max-connections")
    static let headerTimeout = Setting("header-timeout")
    static let bodyTimeout = Setting("body-timeout")
    static let balance = Setting("balance")
    static let slowStart = Setting("slow-start")

    var server: ServerConfiguration
    var backends: [WeightedBackend] = []
    var backendsFile: String?
    var balance = BalancePolicy.roundRobin
    /// nil when off.
    var slowStart: SlowStart?
    /// nil when the admin listener is off.
    var admin: BackendAddress? = BackendAddress(host: "127.0.0.1", port: 8081)
    var health = HealthPolicy()
    var retries = 2
    var connectTimeout: Duration = .seconds(1)
    var backendTimeout: Duration = .seconds(30)
    var poolSize = 256
    var limits = RequestLimits()
    var idleTimeout: Duration = .seconds(60)
    /// Client connection limits and timeouts; its `onReject` is set by the application.
    var connections = ConnectionPolicy()

    /// A configuration for tests and embedding.
    init(server: ServerConfiguration = ServerConfiguration(), backends: [BackendAddress] = []) {
        self.server = server
        self.backends = backends.map { WeightedBackend($0) }
    }

    init(settings: SettingsReader) throws(ConfigurationError) {
        server = try ServerConfiguration(settings: settings, defaultPort: ProxyIdentity.defaultPort)
        if let list = settings.string(Self.backends) {
            for item in list.split(separator: ",") {
                do {
                    backends.append(try WeightedBackend(parsing: String(item)))
                } catch {
                    throw ConfigurationError(setting: Self.backends, value: error.text, expected: "HOST:PORT [weight=N] (\(error.problem))")
                }
            }
        }
        if let path = settings.string(Self.backendsFile) {
            backendsFile = path
            do {
                backends += try WeightedBackend.list(fromFile: path)
            } catch {
                throw ConfigurationError(
                    setting: Self.backendsFile,
                    value: path,
                    expected: "a readable file of HOST:PORT [weight=N] lines (\(error))"
                )
            }
        }
        guard !backends.isEmpty else {
            throw ConfigurationError("no backends: give --backend HOST:PORT (repeatable) or --backends-file PATH")
        }
        balance = try settings.choice(Self.balance, default: balance)
        slowStart = try settings.value(Self.slowStart, default: SlowStart?.none, expected: "off or a duration like 10s, from 100ms to 1h") { raw in
            if raw.lowercased() == "off" { return .some(nil) }
            guard let period = DurationParser.parse(raw), (.milliseconds(100) ... .seconds(3600)).contains(period) else { return nil }
            return SlowStart(period: period)
        }
        if let raw = settings.string(Self.admin) {
            if raw.lowercased() == "off" {
                admin = nil
            } else {
                guard let address = BackendAddress(parsing: raw, allowPortZero: true) else {
                    throw ConfigurationError(setting: Self.admin, value: raw, expected: "HOST:PORT or off")
                }
                admin = address
            }
        }
        health.path = settings.string(Self.healthPath) ?? health.path
        guard health.path.hasPrefix("/") else {
            throw ConfigurationError(setting: Self.healthPath, value: health.path, expected: "a path starting with /")
        }
        health.interval = try settings.duration(Self.healthInterval, default: health.interval, in: .milliseconds(10) ... .seconds(3600))
        health.rise = try settings.integer(Self.rise, default: health.rise, in: 1...100)
        health.fall = try settings.integer(Self.fall, default: health.fall, in: 1...100)
        retries = try settings.integer(Self.retries, default: retries, in: 0...100)
        connectTimeout = try settings.duration(Self.connectTimeout, default: connectTimeout, in: .milliseconds(1) ... .seconds(300))
        backendTimeout = try settings.duration(Self.backendTimeout, default: backendTimeout, in: .milliseconds(1) ... .seconds(3600))
        poolSize = try settings.integer(Self.poolSize, default: poolSize, in: 1...100_000)
        limits.maxHeaderBytes = try settings.integer(Self.maxHeaderBytes, default: limits.maxHeaderBytes, in: 256...1_048_576)
        limits.maxBodyBytes = try settings.integer(Self.maxBodyBytes, default: limits.maxBodyBytes, in: 0...Int(Int32.max))
        idleTimeout = try settings.duration(Self.idleTimeout, default: idleTimeout, in: .milliseconds(10) ... .seconds(3600))
        connections.maxConnections = try settings.integer(Self.maxConnections, default: connections.maxConnections, in: 1...1_000_000)
        connections.headerTimeout = try settings.duration(
            Self.headerTimeout,
            default: connections.headerTimeout,
            in: .milliseconds(10) ... .seconds(3600)
        )
        connections.bodyTimeout = try settings.duration(Self.bodyTimeout, default: connections.bodyTimeout, in: .milliseconds(10) ... .seconds(3600))
        // Idle connections must be closed within the drain, or they would hold the shutdown to its end.
        connections.idleCloseGrace = min(connections.idleCloseGrace, server.drainTimeout)
    }
}

/// How active health checks run and how many results move a backend in or out of rotation.
struct HealthPolicy: Sendable, Equatable {
    var path = "/healthz"
    var interval: Duration = .seconds(1)
    /// Passing checks an ejected backend needs before it is routed to again. 1 by default, so a restarted
    /// backend is back within one interval of answering.
    var rise = 1
    /// Consecutive failures that eject a healthy backend.
    var fall = 2
}

/// Size limits on what a client may send.
struct RequestLimits: Sendable, Equatable {
    /// Request line + header block; larger → 431.
    var maxHeaderBytes = 16 * 1024
    /// Larger bodies → 413.
    var maxBodyBytes = 10 * 1024 * 1024
}
