import CityscapeKit
import Logging
import Testing

@testable import ProxyServer

@Suite("Latency outlier ejection")
struct OutlierEjectionTests {
    static let addresses = (1...4).map { BackendAddress(host: "10.0.1.\($0)", port: 80) }

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
        Self.respond(pool, d, seconds: 3.0)
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
        Self.respond(pool, slow, seconds: 3)
        #expect(pool.snapshot()[2].latencyEjected)
        clock.advance(by: .seconds(29))
        #expect(!Self.picks(pool, count: 30).contains(slow))
        clock.advance(by: .seconds(1))
        #expect(Self.picks(pool, count: 30).contains(slow))
        // Back in, judged afresh: a few slow responses are needed again, then it is out for twice the time.
        Self.respond(pool, slow, seconds: 3, count: OutlierEjection.minimumSamples - 1)
        #expect(pool.snapshot()[2].inRotation)
        Self.respond(pool, slow, seconds: 3, count: 1)
        #expect(pool.snapshot()[2].latencyEjections == 2)
        clock.advance(by: .seconds(59))
        #expect(!Self.picks(pool, count: 30).contains(slow))
        clock.advance(by: .seconds(1))
        #expect(Self.picks(pool, count: 30).contains(slow))
        // In rotation for the longest ejection time: the next ejection is the base time again.
        clock.advance(by: .seconds(300))
        Self.respond(pool, slow, seconds: 3)
        #expect(pool.snapshot()[2].latencyEjections == 1)
        clock.advance(by: .seconds(30))
        #expect(Self.picks(pool, count: 30).contains(slow))
    }

    @Test("a backend many times slower by less than the minimum excess stays: sub-millisecond differences are noise")
    func minimumExcess() {
        let pool = Self.pool(count: 2, factor: 2, clock: FakeClock())
        Self.respond(pool, Self.addresses[0], seconds: 0.000_2)
        Self.respond(pool, Self.addresses[1], seconds: 0.005)
        #expect(pool.snapshot().map(\.inRotation) == [true, true])
        Self.respond(pool, Self.addresses[1], seconds: 0.5, count: 10)
        #expect(pool.snapshot().map(\.inRotation) == [true, false])
    }

    @Test("no more than the maximum share is ejected, and never the last backend in rotation")
    func maximumShare() {
        let clock = FakeClock()
        // Three backends: at most one out at a time.
        let pool = Self.pool(count: 3, factor: 1.5, clock: clock)
        let (fast, b, c) = (Self.addresses[0], Self.addresses[1], Self.addresses[2])
        Self.respond(pool, fast, seconds: 0.1)
        Self.respond(pool, b, seconds: 3)
        Self.respond(pool, c, seconds: 3)
        let status = pool.snapshot()
        // b went first (3 s against the fast one's 0.1 s); c is as slow but may not go as well.
        #expect(status.map(\.latencyEjected) == [false, true, false])
        Self.respond(pool, c, seconds: 3)
        #expect(pool.snapshot().map(\.inRotation) == [true, false, true])

        // Two backends, the fast one out of rotation by health: the slow one is the last and stays.
        let pair = Self.pool(count: 2, factor: 1.5, clock: clock)
        Self.respond(pair, Self.addresses[0], seconds: 0.1)
        pair.record(.connectionRefused, for: Self.addresses[0])
        Self.respond(pair, Self.addresses[1], seconds: 3)
        #expect(pair.snapshot().map(\.inRotation) == [false, true])
        #expect(Self.picks(pair, count: 5) == [Self.addresses[1]])
    }

    @Test("a readmitted backend ramps up through slow start")
    func readmissionThroughSlowStart() {
        let clock = FakeClock()
        let pool = Self.pool(count: 2, factor: 2, slowStart: .seconds(10), clock: clock)
        Self.respond(pool, Self.addresses[0], seconds: 0.5)
        Self.respond(pool, Self.addresses[1], seconds: 2)
        #expect(pool.snapshot().map(\.inRotation) == [true, false])
        clock.advance(by: .seconds(30))
        _ = Self.picks(pool, count: 1)
        #expect(pool.snapshot().map(\.effectiveWeight) == [1, 0.1])
        #expect(pool.snapshot().map(\.latencyMilliseconds) == [500, nil])
        clock.advance(by: .seconds(10))
        #expect(pool.snapshot().map(\.effectiveWeight) == [1, 1])
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
