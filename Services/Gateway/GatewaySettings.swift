import CityscapeKit
import Foundation

/// Every setting of the gateway beyond the shared `ServerSettings`, declared once: `--help`, the environment
/// lookup, the error messages and the README's "Gateway only" table come from here.
///
/// Adding a setting: declare it here and list it in `all`; add its `@Option(help: GatewaySettings.x.help)
/// var x: String?` line to `GatewayOptions`; read it in `GatewayConfiguration` with `settings.value(GatewaySettings.x)`;
/// regenerate the README table (`CITYSCAPE_UPDATE_README=1 swift test --filter Settings`).
enum GatewaySettings {
    static let mode = SettingDeclaration(
        "mode",
        default: GatewayMode.async,
        valueName: "mode",
        help: "async or blocking",
        readme: "`async` or `blocking`",
        parser: .choice
    )
    static let workers = SettingDeclaration(
        "workers",
        default: 1,
        valueName: "n",
        help: "Blocking mode: worker threads",
        readme: "blocking: worker threads (1 = one request at a time, like a single-threaded dev server)",
        parser: .integer(in: 1...1024)
    )
    static let queueLimit = SettingDeclaration(
        "queue-limit",
        default: LimitSetting.fixed(1024),
        valueName: "n|auto",
        help: "Blocking mode: requests that may wait for a worker, or auto to follow latency; beyond it 503",
        readme: "blocking: requests waiting for a worker, or `auto` (follows latency, as below); beyond it 503",
        parser: .limit(in: 0...1_000_000)
    )
    static let maxInFlight = SettingDeclaration(
        "max-in-flight",
        default: LimitSetting.auto,
        valueName: "n|auto",
        help: "Async mode: requests handled at once, or auto to follow latency; beyond it 503",
        readme:
            "async: requests handled at once; beyond it an immediate 503 `overloaded` with `Retry-After` and `Connection: close`. `auto` (the default) adapts it to measured latency (Envoy's gradient: limit × no-load latency × 1.5 ÷ window mean latency + √limit, so the mean may be half again the no-load latency before the limit shrinks, every 250 ms, at most halving; the no-load latency is the lowest window mean of the last one to two minutes, so upstreams that take a steady second are not mistaken for queueing); starts at 5000, never below 50 nor below the highest completion rate of the last one to two minutes × the no-load latency (what the gateway has shown it serves, so CPU contention from refusals is not read as queueing); current value in `gateway_in_flight_limit` and `/healthz`",
        parser: .limit(in: 1...1_000_000)
    )
    static let maxInFlightCeiling = SettingDeclaration(
        "max-in-flight-ceiling",
        default: 10_000,
        valueName: "n",
        help: "The most an auto limit may reach",
        readme: "the most an `auto` limit may reach (in flight; in blocking mode, waiting)",
        parser: .integer(in: 1...1_000_000)
    )
    static let locationURL = SettingDeclaration(
        "location-url",
        default: "http://127.0.0.1:8001",
        valueName: "url",
        help: "Base URL of the location service",
        readme: "location service base URL",
        parser: .baseURL
    )
    static let sunURL = SettingDeclaration(
        "sun-url",
        default: "http://127.0.0.1:8002",
        valueName: "url",
        help: "Base URL of the sun service",
        readme: "sun service (or sunrise-sunset.org) base URL",
        parser: .baseURL
    )
    static let caFile = SettingDeclaration(
        "ca-file",
        default: String?.none,
        shown: .described("system store"),
        valueName: "path",
        help: "PEM file of CAs to trust for https upstreams",
        readme: "PEM CAs trusted for `https://` upstreams",
        parser: SettingParser(expected: "a readable PEM file of CA certificates") { path -> String?? in
            FileManager.default.isReadableFile(atPath: path) ? .some(path) : nil
        }
    )
    static let upstreamTimeout = SettingDeclaration(
        "upstream-timeout",
        default: Duration.seconds(5),
        valueName: "duration",
        help: "Connect + whole-request limit per upstream call",
        readme: "connect + whole request, per upstream call",
        parser: .duration(in: .milliseconds(1) ... .seconds(300))
    )
    static let cacheTTL = SettingDeclaration(
        "cache-ttl",
        default: Duration.zero,
        valueName: "duration",
        help: "How long upstream answers are cached; 0 = off",
        readme: "lifetime of cached upstream answers; `0` turns the cache off",
        parser: .duration(in: .zero ... .seconds(86_400))
    )
    static let cacheSize = SettingDeclaration(
        "cache-size",
        default: 10_000,
        valueName: "n",
        help: "Most answers kept per cache, least recently used evicted",
        readme: "entries per cache (location, sun), LRU",
        parser: .integer(in: 1...10_000_000)
    )

    /// Every gateway setting, in the order of `--help` and the README.
    static let all = [
        mode.document, workers.document, queueLimit.document, maxInFlight.document, maxInFlightCeiling.document, locationURL.document,
        sunURL.document, caFile.document, upstreamTimeout.document, cacheTTL.document, cacheSize.document,
    ]
}

extension SettingParser where Value == LimitSetting {
    /// `auto` or an integer within `range`.
    static func limit(in range: ClosedRange<Int>) -> Self {
        Self(expected: "auto or an integer from \(range.lowerBound) to \(range.upperBound)", format: { $0.description }) { raw in
            LimitSetting(raw, in: range)
        }
    }
}

extension SettingParser where Value == String {
    /// An `http://` or `https://` URL with a host; a trailing slash is dropped, so paths append cleanly.
    static var baseURL: Self {
        Self(expected: "an http:// or https:// URL such as http://127.0.0.1:8001", format: { $0 }) { raw in
            guard let components = URLComponents(string: raw), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
                let host = components.host, !host.isEmpty, components.query == nil, components.fragment == nil
            else { return nil }
            var url = raw
            while url.hasSuffix("/") { url.removeLast() }
            return url
        }
    }
}
