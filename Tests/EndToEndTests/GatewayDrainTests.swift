import CityscapeTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The blocking gateway's shutdown as a process manager sees it: SIGTERM, then the drain, then exit.
@Suite("Live gateway: the blocking mode's drain")
struct GatewayDrainTests {
    @Test(
        "blocking: at the drain's end a request waiting on a silent upstream and one waiting for the worker answer 503 shutting_down, and the process exits then, not at the upstream timeout"
    )
    func blockingDrainEnd() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let location = try await ServiceProcess("cityscape-location")
        defer { Task { await location.stop() } }
        // The upstream timeout is far longer than the drain and the bound below: only an abandoned curl call lets the process
        // exit in time.
        let gateway = try await ServiceProcess(
            "cityscape-gateway",
            arguments: [
                "--mode", "blocking", "--workers", "1", "--location-url", location.baseURL, "--sun-url", "http://127.0.0.1:\(silent.port)",
                "--upstream-timeout", "60s", "--drain-timeout", "1s",
            ]
        )
        defer { Task { await gateway.stop() } }
        let metrics = "\(gateway.baseURL)/metrics"

        async let waitingOnSun = LiveHTTP.request("\(gateway.baseURL)/api/sun/97227/US", timeout: .seconds(90))
        // The location service answered: the request now holds the only worker, blocked in its call to the silent sun upstream.
        try await eventually { location.output().contains("GET /api/location/97227/US 200") }
        async let waitingForWorker = LiveHTTP.request("\(gateway.baseURL)/api/sun/10115/DE", timeout: .seconds(90))
        try await eventually { try await LiveHTTP.metric("gateway_queue_depth", at: metrics) == 1 }

        gateway.send(SIGTERM)
        let signalled = ContinuousClock.now
        for answer in [try await waitingOnSun, try await waitingForWorker] {
            #expect(answer.status == 503)
            let error = try #require(try answer.json()["error"] as? [String: Any])
            #expect(error["code"] as? String == "shutting_down")
            #expect(answer.headers["Retry-After"].first == "1")
            #expect(answer.headers["Connection"].first?.lowercased() == "close")
            // Every answer names its request, whether the request's own middleware or the server's cut-off wrote it.
            #expect(answer.headers["X-Request-ID"].first?.isEmpty == false)
        }
        #expect(await gateway.waitForExit(timeout: .seconds(30)) == 0)
        // The 1 s drain and at most the server's 1 s grace for the cancelled answers, with room for a busy machine; the
        // 60 s upstream timeout would take far longer.
        #expect(ContinuousClock.now - signalled < .seconds(4))
        #expect(!location.output().contains("/api/location/10115/DE"), "the request waiting for the worker was executed")
    }
}
