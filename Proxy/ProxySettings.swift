import CityscapeKit

/// Every setting of the proxy beyond the shared `ServerSettings`, declared once: `--help`, the environment
/// lookup, the error messages and the README's "Proxy only" table come from here.
///
/// Adding a setting: declare it here and list it in `all`; add its `@Option(help: ProxySettings.x.help)
/// var x: String?` line to `ProxyOptions`; read it in `ProxyConfiguration` with `settings.value(ProxySettings.x)`;
/// regenerate the README table (`CITYSCAPE_UPDATE_README=1 swift test --filter Settings`).
enum ProxySettings {
    static let backends = SettingDeclaration(
        "backends",
        flag: "backend",
        repeatable: true,
        default: [WeightedBackend](),
        shown: SettingDefault.none,
        valueName: "host:port",
        help: "Backend HOST:PORT, or 'HOST:PORT weight=N' (1-100, default 1); repeat for several",
        readme: "backend `HOST:PORT`, or `HOST:PORT weight=N` (1–100, default 1; quote it on a command line); a bad weight exits 64",
        parser: SettingParser(expected: "HOST:PORT [weight=N]") { list throws(SettingRejection) in
            var backends: [WeightedBackend] = []
            for item in list.split(separator: ",") {
                do throws(WeightedBackendError) {
                    backends.append(try WeightedBackend(parsing: String(item)))
                } catch {
                    throw SettingRejection(value: error.text, expected: "HOST:PORT [weight=N] (\(error.problem))")
                }
            }
            return backends
        }
    )
    static let backendsFile = SettingDeclaration(
        "backends-file",
        default: BackendsFile?.none,
        valueName: "path",
        help: "File with one HOST:PORT [weight=N] per line, re-read on SIGHUP",
        readme:
            "one `HOST:PORT [weight=N]` per line (`#` comments); re-read on SIGHUP without touching connections (a bad line keeps the old set and logs why)",
        parser: SettingParser(expected: "a readable file of HOST:PORT [weight=N] lines") { path throws(SettingRejection) in
            do {
                return BackendsFile(path: path, backends: try WeightedBackend.list(fromFile: path))
            } catch {
                throw SettingRejection(expected: "a readable file of HOST:PORT [weight=N] lines (\(error))")
            }
        }
    )
    static let balance = SettingDeclaration(
        "balance",
        default: BalancePolicy.roundRobin,
        valueName: "policy",
        help: "round-robin (smooth weighted), least-outstanding or p2c",
        readme:
            "`round-robin`: nginx's smooth weighted round-robin (weights 5/1/1 → `a a b a c a a`); `least-outstanding`: fewest requests in flight per unit of weight, ties round-robin; `p2c`: the less loaded of two backends drawn at random by weight",
        parser: .choice
    )
    static let slowStart = SettingDeclaration(
        "slow-start",
        default: SlowStart?.none,
        shown: .value("off"),
        valueName: "duration",
        help: "A backend (re)joining rotation ramps from 10% to full weight over this time",
        readme: "a backend that joins (reload) or returns to rotation ramps linearly from 10 % to its full weight over this time, e.g. `10s`",
        parser: SettingParser(expected: "off or a duration like 10s, from 100ms to 1h") { raw -> SlowStart?? in
            if raw.lowercased() == "off" { return .some(nil) }
            guard let period = DurationParser.parse(raw), (.milliseconds(100) ... .seconds(3600)).contains(period) else { return nil }
            return SlowStart(period: period)
        }
    )
    static let outlierLatency = SettingDeclaration(
        "outlier-latency",
        default: OutlierEjection?.none,
        shown: .value("off"),
        valueName: "factor",
        help: "Eject a backend whose response-time EWMA stays above this multiple of the others' median, for 30s and longer each time",
        readme:
            "latency outlier ejection: a backend whose EWMA of response-head times stays above this factor (1.5–100, e.g. `2`) × the median of at least two other backends' for a second (after 5 responses each, and by more than 10 ms) is out of rotation for 30 s × its ejections (at most 300 s; at most half the backends, never the last); it returns through slow start",
        parser: SettingParser(expected: "off or a factor from 1.5 to 100") { raw -> OutlierEjection?? in
            if raw.lowercased() == "off" { return .some(nil) }
            guard let factor = Double(raw.hasSuffix("x") ? String(raw.dropLast()) : raw), (1.5...100).contains(factor) else { return nil }
            return OutlierEjection(factor: factor)
        }
    )
    static let admin = SettingDeclaration(
        "admin",
        default: BackendAddress(host: "127.0.0.1", port: 8081) as BackendAddress?,
        valueName: "host:port",
        help: "Admin listener HOST:PORT or off",
        readme:
            "admin listener: `/status` (JSON: the policy, slow start and outlier factor; per backend: state, weight, effective weight, in flight, requests, failures, last check, `latency_ewma_ms`, `latency_ejected`, `latency_ejections`), `/metrics` (also `proxy_backend_in_flight{backend}`, `proxy_backend_selected_total{backend}`, `proxy_backend_latency_ejections_total{backend}`, `proxy_backend_latency_ewma_seconds{backend}`), `/healthz`; `off` disables",
        parser: SettingParser(expected: "HOST:PORT or off", format: { $0?.description ?? "off" }) { raw -> BackendAddress?? in
            raw.lowercased() == "off" ? .some(nil) : BackendAddress(parsing: raw, allowPortZero: true).map { .some($0) }
        }
    )
    static let healthPath = SettingDeclaration(
        "health-path",
        default: "/healthz",
        valueName: "path",
        help: "Path of the active health check",
        readme: "path of the active check (2xx passes)",
        parser: SettingParser(expected: "a path starting with /", format: { $0 }) { $0.hasPrefix("/") ? $0 : nil }
    )
    static let healthInterval = SettingDeclaration(
        "health-interval",
        default: Duration.seconds(1),
        valueName: "duration",
        help: "Time between health checks",
        readme: "time between active checks of a backend",
        parser: .duration(in: .milliseconds(10) ... .seconds(3600))
    )
    static let rise = SettingDeclaration(
        "rise",
        default: 1,
        valueName: "n",
        help: "Passing checks that bring an ejected backend back",
        parser: .integer(in: 1...100)
    )
    static let fall = SettingDeclaration(
        "fall",
        default: 2,
        valueName: "n",
        help: "Consecutive failures that eject a backend",
        readme: "consecutive failures (checks or requests) that eject a backend (a refused connect ejects at once)",
        parser: .integer(in: 1...100)
    )
    static let retries = SettingDeclaration(
        "retries",
        default: 2,
        valueName: "n",
        help: "Other backends tried after a retryable failure",
        readme:
            "other backends tried when nothing was sent (any method), and for idempotent methods on connect timeout or a connection closed before any answer (a body up to 64 KiB is kept for that); a sent POST is never replayed",
        parser: .integer(in: 0...100)
    )
    static let connectTimeout = SettingDeclaration(
        "connect-timeout",
        default: Duration.seconds(1),
        valueName: "duration",
        help: "Backend connect timeout",
        readme: "TCP connect to a backend",
        parser: .duration(in: .milliseconds(1) ... .seconds(300))
    )
    static let backendTimeout = SettingDeclaration(
        "backend-timeout",
        default: Duration.seconds(30),
        valueName: "duration",
        help: "Wait for a response head once the request is sent, and between body reads; then 504",
        readme: "response head once the request is sent, and between body reads → 504",
        parser: .duration(in: .milliseconds(1) ... .seconds(3600))
    )
    static let poolSize = SettingDeclaration(
        "pool-size",
        default: 256,
        valueName: "n",
        help: "Idle keep-alive connections kept per backend; busy ones are not capped",
        readme: "idle keep-alive connections kept per backend (split across the event loops; busy ones are not capped; idle ones close after 60 s)",
        parser: .integer(in: 1...100_000)
    )
    static let maxHeaderBytes = SettingDeclaration(
        "max-header-bytes",
        default: 16 * 1024,
        valueName: "bytes",
        help: "Largest request head; larger gets 431",
        parser: .integer(in: 256...1_048_576)
    )
    static let maxBodyBytes = SettingDeclaration(
        "max-body-bytes",
        default: 10 * 1024 * 1024,
        valueName: "bytes",
        help: "Largest request body; larger gets 413",
        parser: .integer(in: 0...Int(Int32.max))
    )
    static let idleTimeout = SettingDeclaration(
        "idle-timeout",
        default: Duration.seconds(60),
        valueName: "duration",
        help: "Idle client keep-alive connections are closed after it",
        parser: .duration(in: .milliseconds(10) ... .seconds(3600))
    )
    static let headerTimeout = SettingDeclaration(
        "header-timeout",
        default: ConnectionPolicy().headerTimeout,
        valueName: "duration",
        help: "From a request's first byte to its complete head; then 408",
        readme: "slowloris defence: a request head not complete this long after its first byte → 408",
        parser: .duration(in: .milliseconds(10) ... .seconds(3600))
    )
    static let bodyTimeout = SettingDeclaration(
        "body-timeout",
        default: ConnectionPolicy().bodyTimeout,
        valueName: "duration",
        help: "Longest pause while reading a request body; then the connection closes",
        readme: "slowloris defence: the longest pause in a request body, else the connection closes",
        parser: .duration(in: .milliseconds(10) ... .seconds(3600))
    )

    /// Every proxy setting, in the order of `--help` and the README.
    static let all = [
        backends.document, backendsFile.document, balance.document, slowStart.document, outlierLatency.document, admin.document, healthPath.document,
        healthInterval.document, rise.document, fall.document, retries.document, connectTimeout.document, backendTimeout.document,
        poolSize.document, maxHeaderBytes.document, maxBodyBytes.document, idleTimeout.document,
        headerTimeout.document, bodyTimeout.document,
    ]
}

/// A backends file and the backends read from it at start-up.
struct BackendsFile: Sendable {
    var path: String
    var backends: [WeightedBackend]
}
