import CityscapeKit
import CityscapeTestSupport
import Testing

@testable import GatewayService

/// Each gateway setting is declared once; `--help`, the option properties and the README table follow.
@Suite("Gateway settings: declarations, --help and the README agree")
struct GatewaySettingsTests {
    static let declared = ServerSettings.documents(of: GatewayIdentity.self) + GatewaySettings.all

    @Test("every flag in --help has its declaration, with the declared text, and every declaration its flag")
    func help() {
        #expect(SettingsChecks.helpProblems(of: GatewayMain.self, declared: Self.declared) == [])
    }

    @Test("every option reaches its own setting")
    func routing() throws {
        #expect(try SettingsChecks.routingProblems(GatewayMain.self, declared: Self.declared) { $0.configValues } == [])
    }

    @Test("the README's gateway table is the one the declarations produce")
    func readme() throws {
        let rendered = SettingsChecks.section("Gateway only (default port \(GatewayIdentity.defaultPort)):", GatewaySettings.all)
        let problem = try SettingsChecks.readmeProblem(block: "gateway", rendered: rendered)
        #expect(problem == nil, "\(problem ?? "")")
    }

    @Test("defaults apply when nothing is set")
    func defaults() throws {
        let configuration = try GatewayConfiguration(settings: SettingsReader(commandLine: [:], environment: [:]))
        #expect(configuration.server.port == 8000)
        #expect(configuration.mode == .async)
        #expect(configuration.workers == 1)
        #expect(configuration.queueLimit == .fixed(1024))
        #expect(configuration.maxInFlight == .auto)
        #expect(configuration.maxInFlightCeiling == 10_000)
        #expect(configuration.locationURL == "http://127.0.0.1:8001")
        #expect(configuration.sunURL == "http://127.0.0.1:8002")
        #expect(configuration.caFile == nil)
        #expect(configuration.upstreamTimeout == .seconds(5))
        #expect(configuration.cacheTTL == .zero)
        #expect(configuration.cacheSize == 10_000)
    }

    @Test(
        "values are parsed: auto limits, URLs without their trailing slash",
        arguments: [
            ("CITYSCAPE_QUEUE_LIMIT", "auto"), ("CITYSCAPE_MAX_IN_FLIGHT", "AUTO"), ("CITYSCAPE_LOCATION_URL", "https://example.org/"),
        ]
    )
    func parsed(variable: String, value: String) throws {
        let configuration = try GatewayConfiguration(settings: SettingsReader(commandLine: [:], environment: [variable: value]))
        switch variable {
        case "CITYSCAPE_QUEUE_LIMIT": #expect(configuration.queueLimit == .auto)
        case "CITYSCAPE_MAX_IN_FLIGHT": #expect(configuration.maxInFlight == .auto)
        default: #expect(configuration.locationURL == "https://example.org")
        }
    }

    @Test(
        "bad values name the flag, the variable and what is expected",
        arguments: [
            ("CITYSCAPE_QUEUE_LIMIT", "-1", "for --queue-limit / CITYSCAPE_QUEUE_LIMIT: expected auto or an integer from 0 to 1000000"),
            ("CITYSCAPE_MAX_IN_FLIGHT", "0", "expected auto or an integer from 1 to 1000000"),
            ("CITYSCAPE_SUN_URL", "ftp://x", "for --sun-url / CITYSCAPE_SUN_URL: expected an http:// or https:// URL"),
            ("CITYSCAPE_CA_FILE", "/nonexistent.pem", "for --ca-file / CITYSCAPE_CA_FILE: expected a readable PEM file of CA certificates"),
            ("CITYSCAPE_CACHE_TTL", "2d", "expected a duration like 500ms, 2s or 1m, from 0 to 86400s"),
            ("CITYSCAPE_CACHE_SIZE", "0", "for --cache-size / CITYSCAPE_CACHE_SIZE: expected an integer from 1 to 10000000"),
        ]
    )
    func badValues(variable: String, value: String, message: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try GatewayConfiguration(settings: SettingsReader(commandLine: [:], environment: [variable: value]))
        }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error")")
    }
}
