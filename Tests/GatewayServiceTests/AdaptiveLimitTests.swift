import Testing

@testable import GatewayService

/// The adaptive in-flight limit as a value, driven by a scripted clock and scripted latencies.
@Suite("Adaptive limit")
struct AdaptiveLimitTests {
    /// A scripted timeline: `step` completions of `latency` each window, all admitted with `inFlight` requests running.
    struct Script {
        var limit: AdaptiveLimit
        var now = ContinuousClock.now
        /// Every value the limit took, in order.
        var history: [Int] = []

        init(_ parameters: AdaptiveLimit.Parameters) {
            limit = AdaptiveLimit(parameters: parameters)
            history = [limit.limit]
        }

        /// One window of `count` completions spread over `window`; `inFlight` nil means "as many as the limit allows".
        mutating func window(latency: Duration, count: Int = 20, inFlight: Int? = nil) {
            let step = limit.parameters.window / count
            for _ in 0..<count {
                now = now.advanced(by: step)
                if let next = limit.record(latency: latency, inFlight: inFlight ?? limit.limit, at: now) { history.append(next) }
            }
        }

        mutating func windows(_ n: Int, latency: Duration, inFlight: Int? = nil) {
            for _ in 0..<n { window(latency: latency, inFlight: inFlight) }
        }
    }

    static let parameters = AdaptiveLimit.Parameters(floor: 10, ceiling: 5000, initial: 100)
    /// A no-load latency of a second, and a mean that is clearly queueing: a third beyond the tolerance.
    static let noLoad = Duration.seconds(1)
    static let queueing = noLoad * ((1 + parameters.tolerance) * 4 / 3)

    @Test("while latency stays at the no-load latency, a used limit grows window after window", arguments: [Duration.milliseconds(5), .seconds(1)])
    func growsWhileFlat(noLoad: Duration) {
        var script = Script(Self.parameters)
        script.windows(10, latency: noLoad)
        #expect(script.limit.limit > 300)
        #expect(script.history == script.history.sorted(), "the limit fell although latency never rose: \(script.history)")
        // A steady second is the no-load latency here, not queueing.
        #expect(script.limit.minimumLatency == noLoad)
    }

    @Test("when latency rises above the no-load latency, the limit shrinks, at most by half per window")
    func shrinksWhenLatencyRises() {
        var script = Script(Self.parameters)
        script.windows(10, latency: .seconds(1))
        let grown = script.limit.limit
        script.windows(4, latency: Self.queueing)
        #expect(script.limit.limit < grown * 3 / 4)
        for (before, after) in zip(script.history, script.history.dropFirst()) {
            #expect(after * 2 >= before - 1, "the limit fell by more than half in one window: \(script.history)")
        }
        // Back at the no-load latency, it grows again.
        let low = script.limit.limit
        script.windows(5, latency: .seconds(1))
        #expect(script.limit.limit > low)
    }

    @Test("latency that rises while throughput falls from its peak keeps the limit at peak throughput × no-load latency")
    func demonstratedThroughputIsAFloor() {
        var script = Script(Self.parameters)
        // Flat at a second with the limit in use: each window completes limit ÷ latency requests per second.
        for _ in 0..<15 { script.window(latency: .seconds(1), count: script.limit.limit / 4) }
        let grown = script.limit.limit
        let peak = script.limit.peakThroughput
        #expect(peak > 100)
        // CPU contention: latency rises beyond the tolerance and throughput falls with it, as it does when refusals take
        // the cores.
        for _ in 0..<10 { script.window(latency: Self.queueing, count: max(16, Int(Double(script.limit.limit) / 6))) }
        #expect(script.limit.limit >= Int(peak * 0.99), "\(script.history)")
        #expect(script.limit.limit < grown)
        // Without the demonstrated floor ten windows at a gradient of about 0.75 would leave a few percent of it.
    }

    @Test("a slow upstream still lowers a limit that never served much")
    func floorNeedsThroughput() {
        var script = Script(Self.parameters)
        script.windows(10, latency: .seconds(1))
        let grown = script.limit.limit
        script.windows(6, latency: .seconds(2))
        #expect(script.limit.limit < grown / 2, "\(script.history)")
    }

    @Test("latency within the tolerance of the no-load latency is not taken for queueing")
    func toleratesSmallNoise() {
        var script = Script(Self.parameters)
        script.windows(5, latency: .seconds(1))
        let before = script.limit.limit
        script.windows(3, latency: Self.noLoad * (1 + Self.parameters.tolerance * 0.9))
        #expect(script.limit.limit > before)
    }

    @Test("never below the floor however slow it gets, never above the ceiling however fast")
    func boundedByFloorAndCeiling() {
        var script = Script(AdaptiveLimit.Parameters(floor: 10, ceiling: 400, initial: 100))
        script.windows(40, latency: .milliseconds(10))
        #expect(script.limit.limit == 400)
        script.windows(40, latency: .seconds(5))
        #expect(script.limit.limit == 10)
        #expect(script.history.allSatisfy { (10...400).contains($0) }, "\(script.history)")
    }

    @Test("an unused limit does not grow: a quiet gateway keeps no credit for a burst")
    func unusedLimitHolds() {
        var script = Script(Self.parameters)
        script.windows(10, latency: .milliseconds(5), inFlight: 20)
        #expect(script.limit.limit == 100)
    }

    @Test("a window closes only with enough samples and after its duration; nothing moves before")
    func windowNeedsSamplesAndTime() {
        var limit = AdaptiveLimit(parameters: Self.parameters)
        var now = ContinuousClock.now
        // Many samples within one short instant: the window is not over yet.
        for _ in 0..<100 {
            #expect(limit.record(latency: .milliseconds(5), inFlight: 100, at: now) == nil)
        }
        // Long past the window, but too few samples.
        var sparse = AdaptiveLimit(parameters: Self.parameters)
        for _ in 0..<(Self.parameters.minimumSamples - 1) {
            now = now.advanced(by: .seconds(1))
            #expect(sparse.record(latency: .milliseconds(5), inFlight: 100, at: now) == nil)
        }
        #expect(limit.limit == 100)
        #expect(sparse.limit == 100)
    }

    @Test("the no-load reference follows a lasting change of the upstreams' latency within two periods")
    func referenceExpires() {
        // A ceiling it cannot reach within the script, so growth after the change stays visible.
        var script = Script(AdaptiveLimit.Parameters(floor: 10, ceiling: 1_000_000, initial: 100))
        script.windows(10, latency: .milliseconds(100))
        #expect(script.limit.minimumLatency == .milliseconds(100))
        // The upstreams become slower for good (three times, well beyond the tolerance): first the limit shrinks...
        let windowsPerPeriod = Int(Self.parameters.minimumPeriod / Self.parameters.window)
        script.windows(3, latency: .milliseconds(300))
        #expect(script.limit.limit < script.history[10])
        // ...then, two periods later, 300 ms is the new no-load latency and the limit grows again.
        script.windows(2 * windowsPerPeriod + 1, latency: .milliseconds(300))
        #expect(script.limit.minimumLatency == .milliseconds(300))
        let settled = script.limit.limit
        script.windows(3, latency: .milliseconds(300))
        #expect(script.limit.limit > settled)
    }

    @Test("a ceiling below the floor wins, and the start is clamped into the range")
    func parametersAreClamped() {
        let limit = AdaptiveLimit(parameters: AdaptiveLimit.Parameters(floor: 50, ceiling: 4, initial: 2000))
        #expect(limit.parameters.floor == 4)
        #expect(limit.limit == 4)
    }
}
