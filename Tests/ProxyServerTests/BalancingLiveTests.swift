import CityscapeTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import ProxyServer

/// The policies and weights through the real proxy over real sockets to live backends on 127.0.0.1.
@Suite("Balancing, live")
struct BalancingLiveTests {
    /// Sends `workers × perWorker` GETs to `path`, `workers` at a time; returns their statuses (0: no answer).
    static func load(_ url: String, workers: Int, perWorker: Int) async throws -> [Int] {
        try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var statuses: [Int] = []
                    for _ in 0..<perWorker {
                        statuses.append((try? await LiveHTTP.request(url, timeout: .seconds(10)).status) ?? 0)
                    }
                    return statuses
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    /// Requests that reached each backend under the same concurrent load, for one policy.
    static func shares(_ policy: BalancePolicy, delays: [Duration]) async throws -> [Int] {
        try await withDelayedBackends(delays) { backends in
            try await withProxy(
                backends: backends.map(\.address),
                configure: {
                    $0.balance = policy; $0.health.interval = .seconds(60)
                }
            ) { proxy in
                let statuses = try await load(proxy.url + "/slow", workers: 12, perWorker: 25)
                #expect(statuses.allSatisfy { $0 == 200 }, "\(policy): \(statuses.filter { $0 != 200 })")
                return backends.map { $0.backend.count }
            }
        }
    }

    @Test("under the same concurrent load the delayed backend of three gets fewer requests with least-outstanding than with round-robin")
    func delayedBackend() async throws {
        // The delay dwarfs what a busy machine adds to the others' answers, so in-flight counts tell them apart.
        let delays: [Duration] = [.zero, .milliseconds(250), .zero]
        let roundRobin = try await Self.shares(.roundRobin, delays: delays)
        let leastOutstanding = try await Self.shares(.leastOutstanding, delays: delays)
        #expect(roundRobin.reduce(0, +) == 300 && leastOutstanding.reduce(0, +) == 300)
        // Round-robin gives every backend its turn whatever its load: a third each.
        #expect(roundRobin == [100, 100, 100], "\(roundRobin)")
        #expect(leastOutstanding[1] < roundRobin[1] / 2, "least-outstanding \(leastOutstanding) vs round-robin \(roundRobin)")
    }

    @Test("new weights from a reload take effect at once and no request of a concurrent load is dropped")
    func reloadWeights() async throws {
        try await withDelayedBackends([.zero, .zero]) { backends in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("backends-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let (a, b) = (backends[0].address, backends[1].address)
            try "\(a)\n\(b)\n".write(toFile: file, atomically: true, encoding: .utf8)
            let recorder = LogRecorder()
            try await withProxy(
                backends: [],
                recorder: recorder,
                configure: { configuration in
                    configuration.backendsFile = file
                    configuration.backends = [WeightedBackend(a), WeightedBackend(b)]
                    configuration.health.interval = .seconds(60)
                }
            ) { proxy in
                let reloader = BackendsReloader(path: file, fixed: [], pool: proxy.pool, logger: recorder.logger())
                async let statuses = Self.load(proxy.url + "/slow", workers: 8, perWorker: 60)
                for weight in [4, 1, 4, 9] {
                    try "\(a) weight=\(weight)\n\(b)   # weight 1\n".write(toFile: file, atomically: true, encoding: .utf8)
                    reloader.reload()
                    try await Task.sleep(for: .milliseconds(30))
                }
                // A bad weight keeps the current set (9/1) and says why.
                try "\(a) weight=0\n\(b)\n".write(toFile: file, atomically: true, encoding: .utf8)
                reloader.reload()
                let answered = try await statuses
                #expect(answered.count == 480 && answered.allSatisfy { $0 == 200 }, "\(answered.filter { $0 != 200 })")
                #expect(recorder.recorded.contains { $0.contains("line 1: bad weight '0'") && $0.contains("keeping the current list") })
                #expect(proxy.pool.snapshot().map(\.weight) == [9, 1])
                // Sequential requests after a reload: smooth weighted round-robin gives exactly 9 : 1.
                try "\(a) weight=9\n\(b)\n".write(toFile: file, atomically: true, encoding: .utf8)
                reloader.reload()
                let before = backends.map { $0.backend.count }
                let sequential = try await Self.load(proxy.url + "/slow", workers: 1, perWorker: 50)
                #expect(sequential.allSatisfy { $0 == 200 })
                let after = backends.map { $0.backend.count }
                let gained: [Int] = [after[0] - before[0], after[1] - before[1]]
                #expect(gained == [45, 5])
            }
        }
    }

    @Test("/status shows the policy and each backend's weights and in flight; /metrics the per-backend series")
    func statusAndMetrics() async throws {
        try await withDelayedBackends([.zero, .zero]) { backends in
            let weighted = [WeightedBackend(backends[0].address, weight: 3), WeightedBackend(backends[1].address)]
            try await withProxy(
                backends: [],
                configure: { configuration in
                    configuration.backends = weighted
                    configuration.balance = .p2c
                    configuration.slowStart = SlowStart(period: .seconds(10))
                }
            ) { proxy in
                let statuses = try await Self.load(proxy.url + "/slow", workers: 2, perWorker: 10)
                #expect(statuses.allSatisfy { $0 == 200 })
                // A request is finished in the pool just after its last byte is relayed.
                try await eventually { proxy.pool.snapshot().allSatisfy { $0.inFlight == 0 } }
                let status = try await LiveHTTP.request(proxy.adminURL + "/status").json()
                #expect(status["balance"] as? String == "p2c")
                #expect(status["slow_start"] as? String == "10s")
                let listed = try #require(status["backends"] as? [[String: Any]])
                #expect(listed.map { $0["weight"] as? Int } == [3, 1])
                #expect(listed.map { $0["effective_weight"] as? Double } == [3, 1])
                #expect(listed.map { $0["in_flight"] as? Int } == [0, 0])
                let metrics = try await LiveHTTP.request(proxy.adminURL + "/metrics").text
                let selected = backends.map { backend in
                    metrics.split(separator: "\n").first { $0.hasPrefix("proxy_backend_selected_total{backend=\"\(backend.address)\"}") }
                        .flatMap { Double($0.split(separator: " ").last ?? "") }
                }
                #expect(selected.compactMap { $0 }.reduce(0, +) == 20, "\(metrics)")
                #expect(metrics.contains("proxy_backend_in_flight{backend=\"\(backends[0].address)\"} 0"))
            }
        }
    }
}

/// A backend that answers `GET /slow` after its own fixed delay and counts what it answered; `/healthz` is 200.
final class DelayedBackend: Sendable {
    let delay: Duration
    private let answered = Atomic<Int>(0)

    init(delay: Duration) {
        self.delay = delay
    }

    var count: Int { answered.load(ordering: .relaxed) }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ -> HTTPResponse.Status in .ok }
        router.get("/slow") { _, _ -> String in
            if self.delay > .zero { try await Task.sleep(for: self.delay) }
            self.answered.add(1, ordering: .relaxed)
            return "ok"
        }
        return router
    }
}

/// Runs `body` with one live backend per delay, on 127.0.0.1 port 0; they stop when it returns.
func withDelayedBackends<T: Sendable>(
    _ delays: [Duration],
    _ body: @Sendable ([(backend: DelayedBackend, address: BackendAddress)]) async throws -> T
) async throws -> T {
    try await withLiveBackends(delays.map { DelayedBackend(delay: $0) }, body) { backend, address, onServerRunning in
        Application(
            router: backend.router(),
            configuration: .init(address: address),
            onServerRunning: onServerRunning,
            logger: Logger(label: "backend") { _ in SwiftLogNoOpLogHandler() }
        )
    }
}
