import CityscapeTestSupport
import Testing

/// The balancing flags of `cityscape-proxy` as users type them: bad values stop the process with 64.
@Suite("Command line of the proxy's balancing flags")
struct ProxyBalanceCommandLineTests {
    @Test(
        "a bad weight, policy or slow start exits 64 with a message naming the problem",
        arguments: [
            (["--backend", "127.0.0.1:9 weight=0"], [String: String](), "bad weight '0': expected an integer from 1 to 100"),
            (["--backend", "127.0.0.1:9 weigth=2"], [:], "unknown parameter 'weigth=2'"),
            ([], ["CITYSCAPE_BACKENDS": "127.0.0.1:9 weight=2,127.0.0.1:10 weight=101"], "bad weight '101'"),
            (["--backend", "127.0.0.1:9", "--balance", "fastest"], [:], "invalid value 'fastest' for --balance / CITYSCAPE_BALANCE"),
            (["--backend", "127.0.0.1:9", "--slow-start", "10"], [:], "invalid value '10' for --slow-start / CITYSCAPE_SLOW_START"),
        ]
    )
    func badInput(arguments: [String], environment: [String: String], message: String) throws {
        let (status, output) = try runToCompletion(
            "cityscape-proxy",
            arguments: arguments + ["--admin", "off", "--port", "0"],
            environment: environment
        )
        #expect(status == 64)
        #expect(output.contains(message), "output was: \(output)")
    }

    @Test("--help documents the balancing flags and their environment variables")
    func help() throws {
        let (status, output) = try runToCompletion("cityscape-proxy", arguments: ["--help"])
        #expect(status == 0)
        for text in ["--balance", "CITYSCAPE_BALANCE", "--slow-start", "CITYSCAPE_SLOW_START", "weight=N"] {
            #expect(output.contains(text), "--help lacks \(text)")
        }
    }
}
