import CityscapeTestSupport
import Foundation
import Testing

@testable import ProxyServer

/// Latency outlier ejection through the real proxy over real sockets to live backends on 127.0.0.1.
@Suite("Latency outlier ejection, live")
struct OutlierEjectionLiveTests {
    @Test("a delayed backend of three is ejected for latency, the other two serve the rest, and no request is lost")
    func delayedBackendEjected() async throws {
        try await withDelayedBackends([.zero, .milliseconds(150), .zero]) { backends in
            let recorder = LogRecorder()
            try await withProxy(
                backends: backends.map(\.address),
                recorder: recorder,
                configure: { configuration in
                    // Round-robin keeps sending the delayed backend its turn until it is ejected.
                    configuration.balance = .roundRobin
                    configuration.outlierEjection = OutlierEjection(factor: 3, baseEjection: .seconds(60))
                    configuration.health.interval = .seconds(60)
                }
            ) { proxy in
                let first = try await BalancingLiveTests.load(proxy.url + "/slow", workers: 4, perWorker: 60)
                #expect(first.count == 240 && first.allSatisfy { $0 == 200 }, "\(first.filter { $0 != 200 })")
                try await eventually { proxy.pool.snapshot().allSatisfy { $0.inFlight == 0 } }
                let status = proxy.pool.snapshot()
                #expect(status.map(\.latencyEjected) == [false, true, false], "\(status)")
                #expect(status.map(\.inRotation) == [true, false, true])
                #expect(status[1].state == "healthy" && status[1].latencyEjections == 1)
                #expect(recorder.recorded.contains { $0.contains("ejected for latency") })

                // Ejected for a minute: everything that follows goes to the other two.
                let before = backends.map { $0.backend.count }
                let second = try await BalancingLiveTests.load(proxy.url + "/slow", workers: 4, perWorker: 20)
                #expect(second.count == 80 && second.allSatisfy { $0 == 200 })
                let gained = zip(backends.map { $0.backend.count }, before).map { $0 - $1 }
                #expect(gained[1] == 0 && gained[0] + gained[2] == 80, "\(gained)")

                let body = try await LiveHTTP.request(proxy.adminURL + "/status").json()
                #expect(body["outlier_latency"] as? Double == 3)
                let listed = try #require(body["backends"] as? [[String: Any]])
                #expect(listed.map { $0["latency_ejected"] as? Bool } == [false, true, false])
                #expect((listed[1]["latency_ewma_ms"] as? Double ?? 0) >= 150)
                let metrics = try await LiveHTTP.request(proxy.adminURL + "/metrics").text
                #expect(metrics.contains("proxy_backend_latency_ejections_total{backend=\"\(backends[1].address)\"} 1"), "\(metrics)")
            }
        }
    }
}
