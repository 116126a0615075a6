import Hummingbird
import HummingbirdTesting
import Logging
import NIOEmbedded
import Testing

@testable import CityscapeKit

@Suite("Simulated latency: one queue and timer per event loop")
struct SimulatedLatencyTests {
    /// A router whose only route sits behind the latency, as in every service.
    func makeRouter(latency: Duration) -> Router<CityscapeRequestContext> {
        let router = Router(context: CityscapeRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: SimulatedLatencyMiddleware(latency: latency))
        router.get("/slow") { _, _ in "done" }
        return router
    }

    @Test("many waits started together all last at least the latency, and all end")
    func concurrentWaits() async throws {
        let latency = Duration.milliseconds(300)
        try await Application(router: makeRouter(latency: latency)).test(.router) { client in
            let clock = ContinuousClock()
            let durations = try await withThrowingTaskGroup(of: (Int, Duration).self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        var status = 0
                        let elapsed = try await clock.measure { status = try await client.execute(uri: "/slow", method: .get).status.code }
                        return (status, elapsed)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(durations.count == 40)
            #expect(durations.allSatisfy { $0.0 == 200 })
            #expect(durations.allSatisfy { $0.1 >= latency })
        }
    }

    @Test("a cancelled wait ends at once with CancellationError, before or after it started")
    func cancellation() async throws {
        let middleware = SimulatedLatencyMiddleware(latency: .seconds(60))
        let context = CityscapeRequestContext(source: .init(channel: EmbeddedChannel(), logger: .init(label: "test")))
        let request = Request(head: .init(method: .get, scheme: "http", authority: "test", path: "/"), body: .init(buffer: .init()))
        for delay in [Duration.zero, .milliseconds(50)] {
            let started = ContinuousClock.now
            let task = Task {
                if delay > .zero { try await Task.sleep(for: delay) }
                return try await middleware.handle(request, context: context) { _, _ in Response(status: .ok) }
            }
            if delay == .zero {
                task.cancel()
            } else {
                try await Task.sleep(for: delay * 2)
                task.cancel()
            }
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }
}
