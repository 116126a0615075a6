import CityscapeKit
import CityscapeTestSupport
import Testing

@testable import ProxyServer

/// Each proxy setting is declared once; `--help`, the option properties and the README table follow.
@Suite("Proxy settings: declarations, --help and the README agree")
struct ProxySettingsTests {
    static let declared = ServerSettings.documents(of: ProxyIdentity.self) + ProxySettings.all

    @Test("every flag in --help has its declaration, with the declared text, and every declaration its flag")
    func help() {
        #expect(SettingsChecks.helpProblems(of: ProxyMain.self, declared: Self.declared) == [])
        #expect(SettingsChecks.helpFlags(of: ProxyMain.self).contains("--backend"))
    }

    @Test("every option reaches its own setting")
    func routing() throws {
        #expect(try SettingsChecks.routingProblems(ProxyMain.self, declared: Self.declared) { $0.configValues } == [])
    }

    @Test("the README's proxy table is the one the declarations produce")
    func readme() throws {
        let rendered = SettingsChecks.section("Proxy only (default port \(ProxyIdentity.defaultPort)):", ProxySettings.all)
        let problem = try SettingsChecks.readmeProblem(block: "proxy", rendered: rendered)
        #expect(problem == nil, "\(problem ?? "")")
    }

    @Test("defaults apply when nothing is set, and they are the declared ones")
    func defaults() throws {
        let configuration = try ProxyConfiguration(
            settings: SettingsReader(commandLine: [:], environment: ["CITYSCAPE_BACKENDS": "127.0.0.1:9000"])
        )
        #expect(configuration.server.port == 8080)
        #expect(configuration.admin == BackendAddress(host: "127.0.0.1", port: 8081))
        #expect(configuration.balance == .roundRobin)
        #expect(configuration.slowStart == nil)
        #expect(configuration.health == HealthPolicy(path: "/healthz", interval: .seconds(1), rise: 1, fall: 2))
        #expect(configuration.retries == 2)
        #expect(configuration.connectTimeout == .seconds(1))
        #expect(configuration.backendTimeout == .seconds(30))
        #expect(configuration.poolSize == 256)
        #expect(configuration.limits == RequestLimits(maxHeaderBytes: 16384, maxBodyBytes: 10_485_760))
        #expect(configuration.idleTimeout == .seconds(60))
        #expect(configuration.connections.maxConnections == 10_000)
        #expect(configuration.connections.headerTimeout == .seconds(10))
        #expect(configuration.connections.bodyTimeout == .seconds(30))
    }

    @Test(
        "bad values name the flag, the variable and what is expected",
        arguments: [
            ("CITYSCAPE_ADMIN", "nowhere", "invalid value 'nowhere' for --admin / CITYSCAPE_ADMIN: expected HOST:PORT or off"),
            ("CITYSCAPE_HEALTH_PATH", "healthz", "for --health-path / CITYSCAPE_HEALTH_PATH: expected a path starting with /"),
            ("CITYSCAPE_RISE", "0", "for --rise / CITYSCAPE_RISE: expected an integer from 1 to 100"),
            ("CITYSCAPE_MAX_HEADER_BYTES", "100", "expected an integer from 256 to 1048576"),
            ("CITYSCAPE_HEADER_TIMEOUT", "5ms", "expected a duration like 500ms, 2s or 1m, from 10ms to 3600s"),
            ("CITYSCAPE_SLOW_START", "50ms", "expected off or a duration like 10s, from 100ms to 1h"),
            ("CITYSCAPE_BACKENDS_FILE", "/nonexistent", "for --backends-file / CITYSCAPE_BACKENDS_FILE: expected a readable file"),
        ]
    )
    func badValues(variable: String, value: String, message: String) {
        let environment = ["CITYSCAPE_BACKENDS": "127.0.0.1:9000", variable: value]
        let error = #expect(throws: ConfigurationError.self) {
            try ProxyConfiguration(settings: SettingsReader(commandLine: [:], environment: environment))
        }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error")")
    }

    @Test("admin off and a valid slow start are read")
    func offValues() throws {
        let environment = ["CITYSCAPE_BACKENDS": "127.0.0.1:9000", "CITYSCAPE_ADMIN": "OFF", "CITYSCAPE_SLOW_START": "off"]
        let configuration = try ProxyConfiguration(settings: SettingsReader(commandLine: [:], environment: environment))
        #expect(configuration.admin == nil)
        #expect(configuration.slowStart == nil)
    }
}
