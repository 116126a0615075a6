import CityscapeKit
import Logging
import Testing

@testable import ProxyServer

@Suite("Latency outlier ejection")
struct OutlierEjectionTests {
    static let addresses = (1...5).map { BackendAddress(host: "10.0.1.\($0)", port: 80) }

    static func pool(count: Int, factor: Double = 2, slowStart: Duration? = nil, clock: FakeClock) -> BackendPool {
        BackendPool(
            backends: addresses.prefix(count).map { WeightedBackend($0) },
            balancer: Balancer(.roundRobin),
            slowStart: slowStart.map { SlowStart(period: $0) },
            outliers: OutlierEjection(factor: factor, baseEjection: .seconds(30), maximumEjection: .seconds(300)),
            now: { clock.now },
            policy: HealthPolicy(),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
    }

    /// `count` responses of `backend`, each taking `seconds`, as the proxy reports them (without picks: round-robin,
    /// which these pools use, does not look at the in-flight counts this leaves below zero).
    static func respond(_ pool: BackendPool, _ backend: BackendAddress, seconds: Double, count: Int = OutlierEjection.minimumSamples) {
        for _ in 0..<count { pool.finish(backend, outcome: .requestSucceeded, responseTime: seconds) }
    }

    /// Slow responses of `backend` until it is judged, then for `minimumDuration` more: what ejects an outlier.
    static func slowFor(_ pool: BackendPool, _ backend: BackendAddress, seconds: Double, clock: FakeClock) {
        respond(pool, backend, seconds: seconds)
        clock.advance(by: OutlierEjection.minimumDuration)
        respond(pool, backend, seconds: seconds, count: 1)
    }

    /// Addresses picked by `count` picks, each finished at once without a response time.
    static func picks(_ pool: BackendPool, count: Int) -> Set<BackendAddress> {
        Set(
            (0..<count).compactMap { _ in
                let picked = pool.next()
                if let picked { pool.finish(picked) }
                return picked
            }
        )
    }

    @Test("the EWMA starts at the first response, weighs the newest by the smoothing, and is judged only after enough samples")
    func ewma() {
        var record = LatencyRecord()
        #expect(record.recorded(1) == .none)
        #expect(record.ewma == 1)
        #expect(record.recorded(2) == .none)
        #expect(abs((record.ewma ?? 0) - (1 + OutlierEjection.smoothing)) < 1e-12)
        #expect(record.settledEWMA == nil)
        for _ in 3..<OutlierEjection.minimumSamples { _ = record.recorded(1) }
        guard case .judge = record.recorded(1) else {
            Issue.record("no judgement after \(OutlierEjection.minimumSamples) samples")
            return
        }
        #expect(record.settledEWMA != nil)
    }

    @Test("a backend well above the others' median is ejected, not picked, and shown; one within the factor stays")
    func ejection() {
        let clock = FakeClock()
        let pool = Self.pool(count: 4, factor: 2, clock: clock)
        let (a, b, c, d) = (Self.addresses[0], Self.addresses[1], Self.addresses[2], Self.addresses[3])
        Self.respond(pool, a, seconds: 1.0)
        Self.respond(pool, b, seconds: 1.1)
        Self.respond(pool, c, seconds: 1.9)
        // c is 1.9 × the median of a and b (d has no samples yet): not an outlier.
        #expect(pool.snapshot().map(\.inRotation) == [true, true, true, true])
        #expect(pool.snapshot().map(\.latencyMilliseconds)[0] == 1000)
        // An outlier from its fifth response, but ejected only once it has stayed one for the minimum duration.
        Self.respond(pool, d, seconds: 3.0)
        #expect(pool.snapshot()[3].inRotation)
        clock.advance(by: OutlierEjection.minimumDuration)
        Self.respond(pool, d, seconds: 3.0, count: 1)
        let status = pool.snapshot()
        #expect(status.map(\.inRotation) == [true, true, true, false])
        #expect(status[3].latencyEjected && status[3].latencyEjections == 1 && status[3].state == "healthy")
        #expect(Self.picks(pool, count: 40) == [a, b, c])
    }

    @Test("the ejection lasts the base time, the next one twice it; a backend that stayed in long enough starts over")
    func growth() {
        let clock = FakeClock()
        let pool = Self.pool(count: 3, factor: 2, clock: clock)
        let (a, b, slow) = (Self.addresses[0], Self.addresses[1], Self.addresses[2])
        Self.respond(pool, a, seconds: 1)
        Self.respond(pool, b, seconds: 1)
        Self.slowFor(pool, slow, seconds: 3, clock: clock)
        #expect(pool.snapshot()[2].latencyEjected)
        clock.advance(by: .seconds(29))
        #expect(!Self.picks(pool, count: 30).contains(slow))
        clock.advance(by: .seconds(1))
        #expect(Self.picks(pool, count: 30).contains(slow))
        // Back in, judged afresh: a few slow responses are needed again, then it is out for twice the time.
        Self.respond(pool, slow, seconds: 3, count: OutlierEjection.minimumSamples - 1)
        #expect(pool.snapshot()[2].inRotation)
        Self.slowFor(pool, slow, seconds: 3, clock: clock)
        #expect(pool.snapshot()[2].latencyEjections == 2)
        clock.advance(by: .seconds(59))
        #expect(!Self.picks(pool, count: 30).contains(slow))
        clock.advance(by: .seconds(1))
        #expect(Self.picks(pool, count: 30).contains(slow))
        // In rotation for the longest ejection time: the next ejection is the base time again.
        clock.advance(by: .seconds(300))
        Self.slowFor(pool, slow, seconds: 3, clock: clock)
        #expect(pool.snapshot()[2].latencyEjections == 1)
        clock.advance(by: .seconds(30))
        #expect(Self.picks(pool, count: 30).contains(slow))
    }

    @Test("a backend many times slower by less than the minimum excess stays: sub-millisecond differences are noise")
    func minimumExcess() {
        let clock = FakeClock()
        let pool = Self.pool(count: 3, factor: 2, clock: clock)
        Self.respond(pool, Self.addresses[0], seconds: 0.000_2)
        Self.respond(pool, Self.addresses[1], seconds: 0.000_2)
        Self.slowFor(pool, Self.addresses[2], seconds: 0.005, clock: clock)
        #expect(pool.snapshot().map(\.inRotation) == [true, true, true])
        Self.slowFor(pool, Self.addresses[2], seconds: 0.5, clock: clock)
        #expect(pool.snapshot().map(\.inRotation) == [true, true, false])
    }

    @Test("no more than the maximum share is ejected; with fewer than two other backends to compare with, none is")
    func maximumShare() {
        let clock = FakeClock()
        // Five backends: at most two out at a time.
        let pool = Self.pool(count: 5, factor: 1.5, clock: clock)
        let slow = Array(Self.addresses[2...4])
        Self.respond(pool, Self.addresses[0], seconds: 0.1)
        Self.respond(pool, Self.addresses[1], seconds: 0.1)
        for backend in slow { Self.respond(pool, backend, seconds: 3) }
        clock.advance(by: OutlierEjection.minimumDuration)
        for backend in slow { Self.respond(pool, backend, seconds: 3, count: 1) }
        // The first slow one is compared with the median of 0.1, 0.1, 3 and 3 s; then the next with 0.1, 0.1 and 3 s;
        // the third is as slow, but two are out already.
        #expect(pool.snapshot().map(\.latencyEjected) == [false, false, true, true, false])
        Self.slowFor(pool, slow[2], seconds: 3, clock: clock)
        #expect(pool.snapshot().map(\.inRotation) == [true, true, false, false, true])

        // Two backends: the only reference is the other one, so neither is ever judged.
        let pair = Self.pool(count: 2, factor: 1.5, clock: clock)
        Self.respond(pair, Self.addresses[0], seconds: 0.1)
        Self.slowFor(pair, Self.addresses[1], seconds: 3, clock: clock)
        #expect(pair.snapshot().map(\.inRotation) == [true, true])
    }

    @Test("an outlier for less than the minimum duration (a backend paused for a moment) stays in rotation")
    func briefOutlier() {
        let clock = FakeClock()
        let pool = Self.pool(count: 3, factor: 2, clock: clock)
        Self.respond(pool, Self.addresses[0], seconds: 0.1)
        Self.respond(pool, Self.addresses[1], seconds: 0.1)
        Self.respond(pool, Self.addresses[2], seconds: 0.1)
        // A burst of slow responses, then normal ones before the minimum duration is up, twice.
        for _ in 0..<2 {
            Self.respond(pool, Self.addresses[2], seconds: 2, count: 3)
            clock.advance(by: OutlierEjection.minimumDuration / 2)
            Self.respond(pool, Self.addresses[2], seconds: 0.1, count: 10)
            clock.advance(by: OutlierEjection.minimumDuration)
        }
        #expect(pool.snapshot().map(\.inRotation) == [true, true, true])
    }

    @Test("a readmitted backend ramps up through slow start")
    func readmissionThroughSlowStart() {
        let clock = FakeClock()
        let pool = Self.pool(count: 3, factor: 2, slowStart: .seconds(10), clock: clock)
        Self.respond(pool, Self.addresses[0], seconds: 0.5)
        Self.respond(pool, Self.addresses[1], seconds: 0.5)
        Self.slowFor(pool, Self.addresses[2], seconds: 2, clock: clock)
        #expect(pool.snapshot().map(\.inRotation) == [true, true, false])
        clock.advance(by: .seconds(30))
        _ = Self.picks(pool, count: 1)
        #expect(pool.snapshot().map(\.effectiveWeight) == [1, 1, 0.1])
        #expect(pool.snapshot().map(\.latencyMilliseconds) == [500, 500, nil])
        clock.advance(by: .seconds(10))
        #expect(pool.snapshot().map(\.effectiveWeight) == [1, 1, 1])
    }

    @Test("without --outlier-latency response times are ignored")
    func off() {
        let pool = BackendPool(
            backends: Self.addresses.prefix(2).map { WeightedBackend($0) },
            policy: HealthPolicy(),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
        Self.respond(pool, Self.addresses[0], seconds: 0.1)
        Self.respond(pool, Self.addresses[1], seconds: 30)
        #expect(pool.snapshot().map(\.inRotation) == [true, true])
        #expect(pool.snapshot().map(\.latencyMilliseconds) == [nil, nil])
    }

    @Test(
        "--outlier-latency takes off or a factor from 1.5 to 100, with or without an x",
        arguments: [
            ("3", 3.0), ("2.5x", 2.5), ("off", nil), ("1", -1), ("abc", -1), ("101", -1),
        ] as [(String, Double?)]
    )
    func configuration(raw: String, factor: Double?) throws {
        let settings = SettingsReader(
            commandLine: [:],
            environment: ["CITYSCAPE_BACKENDS": "127.0.0.1:9000", "CITYSCAPE_OUTLIER_LATENCY": raw]
        )
        if factor == -1 {
            #expect {
                try ProxyConfiguration(settings: settings)
            } throws: { error in
                "\(error)".contains("CITYSCAPE_OUTLIER_LATENCY") && "\(error)".contains("a factor from 1.5 to 100")
            }
        } else {
            let configuration = try ProxyConfiguration(settings: settings)
            #expect(configuration.outlierEjection?.factor == factor)
        }
    }
}
