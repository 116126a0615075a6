import CityscapeKit
import Configuration
import Logging
import Testing

@Suite("Configuration: flags, environment variables and their errors")
struct ConfigurationTests {
    @Test("settings derive flag, environment variable and config key from one name")
    func settingNames() {
        let setting = Setting("log-level")
        #expect(setting.flag == "--log-level")
        #expect(setting.environmentVariable == "CITYSCAPE_LOG_LEVEL")
        #expect(setting.configKey == ConfigKey(["cityscape", "logLevel"]))
    }

    @Test(
        "durations parse in every supported unit",
        arguments: [
            ("500ms", Duration.milliseconds(500)), ("2s", .seconds(2)), ("1.5s", .milliseconds(1500)), ("1m", .seconds(60)), ("0", .zero),
            ("1h", .seconds(3600)),
        ]
    )
    func durations(text: String, expected: Duration) {
        #expect(DurationParser.parse(text) == expected)
    }

    @Test("durations without a unit or with junk are rejected", arguments: ["500", "", "ms", "-1s", "1.2.3s", "5 s", "1d", "nans", "1e3ms"])
    func badDurations(text: String) {
        #expect(DurationParser.parse(text) == nil)
    }

    @Test(
        "a span's milliseconds with one decimal, rounded half up",
        arguments: [
            (Duration.zero, "0.0"), (.microseconds(49), "0.0"), (.microseconds(50), "0.1"), (.nanoseconds(12_345_678), "12.3"),
            (.microseconds(12_350), "12.4"), (.seconds(3), "3000.0"), (.seconds(86_400), "86400000.0"),
        ]
    )
    func millisecondsText(span: Duration, text: String) {
        #expect(span.millisecondsText == text)
    }

    @Test("defaults apply when nothing is set")
    func defaults() throws {
        let configuration = try ServerConfiguration(settings: SettingsReader(commandLine: [:], environment: [:]), defaultPort: 8001)
        #expect(configuration == ServerConfiguration(host: "127.0.0.1", port: 8001, logLevel: .info, latency: .zero))
    }

    @Test("environment variables are read, and flags win over them")
    func precedence() throws {
        let environment = ["CITYSCAPE_PORT": "9000", "CITYSCAPE_LATENCY": "250ms", "CITYSCAPE_LOG_LEVEL": "debug"]
        let fromEnvironment = try ServerConfiguration(settings: SettingsReader(commandLine: [:], environment: environment), defaultPort: 8001)
        #expect(fromEnvironment.port == 9000)
        #expect(fromEnvironment.latency == .milliseconds(250))
        #expect(fromEnvironment.logLevel == .debug)

        let flags = ServerSettings.commandLineValues([(ServerSettings.port, "9100"), (ServerSettings.latency, "1s")])
        let fromFlags = try ServerConfiguration(settings: SettingsReader(commandLine: flags, environment: environment), defaultPort: 8001)
        #expect(fromFlags.port == 9100)
        #expect(fromFlags.latency == .seconds(1))
        #expect(fromFlags.logLevel == .debug)
    }

    @Test(
        "bad values are errors that name the flag, the variable and what is expected",
        arguments: [
            ("CITYSCAPE_PORT", "80o0", "--port / CITYSCAPE_PORT", "an integer from 0 to 65535"),
            ("CITYSCAPE_PORT", "70000", "--port / CITYSCAPE_PORT", "an integer from 0 to 65535"),
            ("CITYSCAPE_LATENCY", "500", "--latency / CITYSCAPE_LATENCY", "a duration like 500ms"),
            ("CITYSCAPE_LATENCY", "2m", "--latency / CITYSCAPE_LATENCY", "from 0 to 60"),
            ("CITYSCAPE_LOG_LEVEL", "loud", "--log-level / CITYSCAPE_LOG_LEVEL", "one of trace, debug, info"),
        ]
    )
    func badValues(variable: String, value: String, names: String, expected: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try ServerConfiguration(settings: SettingsReader(commandLine: [:], environment: [variable: value]), defaultPort: 8001)
        }
        #expect(error?.message.contains("'\(value)'") == true)
        #expect(error?.message.contains(names) == true)
        #expect(error?.message.contains(expected) == true)
    }
}
