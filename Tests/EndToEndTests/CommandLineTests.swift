import CityscapeTestSupport
import Foundation
import Testing

/// The executable surface: `--help`, bad flags and bad environment values fail fast and clearly.
@Suite("Command line of the service binaries")
struct CommandLineTests {
    @Test(
        "--help documents every shared flag with its environment variable",
        arguments: ["cityscape-location", "cityscape-sun", "cityscape-gateway", "cityscape-proxy"]
    )
    func help(binary: String) throws {
        let (status, output) = try runToCompletion(binary, arguments: ["--help"])
        #expect(status == 0)
        for text in ["--host", "--port", "--log-level", "--latency", "CITYSCAPE_HOST", "CITYSCAPE_PORT", "CITYSCAPE_LOG_LEVEL", "CITYSCAPE_LATENCY"] {
            #expect(output.contains(text), "\(binary) --help lacks \(text)")
        }
    }

    @Test(
        "bad values and unknown flags exit 64 with a message naming the problem",
        arguments: [
            (["--port", "eighty"], [String: String](), "invalid value 'eighty' for --port / CITYSCAPE_PORT"),
            (["--latency", "500"], [:], "invalid value '500' for --latency / CITYSCAPE_LATENCY"),
            (["--bogus"], [:], "Unknown option '--bogus'"),
            ([], ["CITYSCAPE_LOG_LEVEL": "loud"], "invalid value 'loud' for --log-level / CITYSCAPE_LOG_LEVEL"),
            ([], ["CITYSCAPE_PORT": "70000"], "expected an integer from 0 to 65535"),
        ]
    )
    func badInput(arguments: [String], environment: [String: String], message: String) throws {
        let (status, output) = try runToCompletion("cityscape-sun", arguments: arguments, environment: environment)
        #expect(status == 64)
        #expect(output.contains(message), "output was: \(output)")
    }

    @Test(
        "gateway-specific flags are validated the same way",
        arguments: [
            (["--mode", "threads"], [String: String](), "invalid value 'threads' for --mode / CITYSCAPE_MODE"),
            ([], ["CITYSCAPE_WORKERS": "0"], "for --workers / CITYSCAPE_WORKERS"),
            (["--upstream-timeout", "5"], [:], "invalid value '5' for --upstream-timeout / CITYSCAPE_UPSTREAM_TIMEOUT"),
        ]
    )
    func gatewayBadInput(arguments: [String], environment: [String: String], message: String) throws {
        let (status, output) = try runToCompletion("cityscape-gateway", arguments: arguments, environment: environment)
        #expect(status == 64)
        #expect(output.contains(message), "output was: \(output)")
    }

    @Test("the location service refuses a postal data path that does not exist")
    func missingData() throws {
        let (status, output) = try runToCompletion("cityscape-location", arguments: ["--postal-data", "/nonexistent/postal.tsv.gz"])
        #expect(status == 64)
        #expect(output.contains("invalid value '/nonexistent/postal.tsv.gz' for --postal-data / CITYSCAPE_POSTAL_DATA"))
    }

    @Test("a port already in use is a clear start-up failure, not a hang")
    func portInUse() async throws {
        let first = try await ServiceProcess("cityscape-sun")
        defer { Task { await first.stop() } }
        let (status, output) = try runToCompletion("cityscape-sun", arguments: ["--port", String(first.port)])
        #expect(status != 0)
        #expect(output.lowercased().contains("address already in use"), "output was: \(output)")
    }
}
