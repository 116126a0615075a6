import CityscapeKit
import CityscapeTestSupport
import Logging
import Synchronization
import Testing

@testable import ProxyServer

/// The balancing policies over fake backends: no sockets, just candidates and the index each pick returns.
@Suite("Balancing policies")
struct BalancingTests {
    static func candidates(_ weights: [Int], inFlight: [Int]? = nil, inRotation: [Bool]? = nil) -> [BalanceCandidate] {
        weights.indices.map { index in
            BalanceCandidate(
                address: BackendAddress(host: "10.0.0.\(index + 1)", port: 80),
                weight: weights[index],
                inFlight: inFlight?[index] ?? 0,
                inRotation: inRotation?[index] ?? true
            )
        }
    }

    /// `count` picks, each finished before the next (no load builds up), as letters `a`, `b`, ...
    static func sequence(_ policy: BalancePolicy, _ candidates: [BalanceCandidate], count: Int, seed: UInt64 = 7) -> String {
        var balancer = Balancer(policy, seed: seed)
        return String((0..<count).map { _ in Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(balancer.pick(from: candidates)!))) })
    }

    /// How many of `count` picks each candidate gets.
    static func shares(_ policy: BalancePolicy, _ candidates: [BalanceCandidate], count: Int, seed: UInt64 = 7) -> [Int] {
        var balancer = Balancer(policy, seed: seed)
        var shares = Array(repeating: 0, count: candidates.count)
        for _ in 0..<count { shares[balancer.pick(from: candidates)!] += 1 }
        return shares
    }

    @Test("smooth weighted round-robin with weights 5/1/1 gives nginx's documented sequence")
    func nginxSequence() {
        #expect(Self.sequence(.roundRobin, Self.candidates([5, 1, 1]), count: 14) == "aabacaa" + "aabacaa")
    }

    @Test("equal weights: round-robin and least-outstanding (all ties) take turns", arguments: [BalancePolicy.roundRobin, .leastOutstanding])
    func equalWeights(policy: BalancePolicy) {
        #expect(Self.sequence(policy, Self.candidates([1, 1, 1]), count: 7) == "abcabca")
    }

    @Test("weights set the shares of every policy", arguments: BalancePolicy.allCases)
    func weightedShares(policy: BalancePolicy) {
        let shares = Self.shares(policy, Self.candidates([3, 1]), count: 4000)
        // Round-robin and least-outstanding (all idle, so all ties) are exact; p2c draws by weight, and the
        // less loaded of two idle backends is the first drawn, so its share is the weighted draw's: 3/4.
        #expect(abs(shares[0] - 3000) <= (policy == .p2c ? 120 : 1), "\(shares)")
        #expect(shares[0] + shares[1] == 4000)
    }

    @Test("least-outstanding avoids the backend with many in flight")
    func leastOutstandingAvoidsBusy() {
        let candidates = Self.candidates([1, 1, 1], inFlight: [9, 2, 2])
        #expect(Self.sequence(.leastOutstanding, candidates, count: 4) == "bcbc")
        #expect(Self.sequence(.leastOutstanding, Self.candidates([1, 1, 1], inFlight: [9, 3, 2]), count: 3) == "ccc")
    }

    @Test("least-outstanding compares in flight per unit of weight")
    func leastOutstandingWeighted() {
        // 4 in flight on weight 4 is lighter than 2 in flight on weight 1.
        #expect(Self.sequence(.leastOutstanding, Self.candidates([4, 1], inFlight: [4, 2]), count: 2) == "aa")
    }

    @Test("p2c never picks the most loaded backend of three when the other two are idle")
    func p2cAvoidsBusy() {
        let shares = Self.shares(.p2c, Self.candidates([1, 1, 1], inFlight: [50, 0, 0]), count: 3000)
        // Two distinct backends are drawn, so the busy one always meets a lighter one and loses.
        #expect(shares[0] == 0)
        #expect(abs(shares[1] - shares[2]) < 300, "\(shares)")
    }

    @Test("p2c with the same seed makes the same picks; another seed, other picks")
    func p2cSeeded() {
        let candidates = Self.candidates([1, 1, 1, 1])
        #expect(Self.sequence(.p2c, candidates, count: 40, seed: 1) == Self.sequence(.p2c, candidates, count: 40, seed: 1))
        #expect(Self.sequence(.p2c, candidates, count: 40, seed: 1) != Self.sequence(.p2c, candidates, count: 40, seed: 2))
    }

    @Test("an ejected or excluded backend is never picked; none eligible gives nil", arguments: BalancePolicy.allCases)
    func ejectedAndExcluded(policy: BalancePolicy) {
        let candidates = Self.candidates([1, 5, 1], inRotation: [true, false, true])
        let shares = Self.shares(policy, candidates, count: 300)
        #expect(shares[1] == 0)
        #expect(shares[0] > 0 && shares[2] > 0)
        var balancer = Balancer(policy, seed: 3)
        for _ in 0..<20 { #expect(balancer.pick(from: candidates, excluding: [candidates[0].address]) == 2) }
        #expect(balancer.pick(from: candidates, excluding: [candidates[0].address, candidates[2].address]) == nil)
        #expect(balancer.pick(from: Self.candidates([1, 1], inRotation: [false, false])) == nil)
        #expect(balancer.pick(from: []) == nil)
    }

    @Test("ties among the least loaded go round-robin, skipping the busier backend")
    func ties() {
        let candidates = Self.candidates([1, 1, 1, 1], inFlight: [1, 0, 1, 0])
        #expect(Self.sequence(.leastOutstanding, candidates, count: 6) == "bdbdbd")
    }

    @Test("slow start ramps linearly from 10 % to full weight over the period")
    func slowStartRamp() {
        let ramp = SlowStart(period: .seconds(10))
        #expect(ramp.fraction(after: .zero) == 0.1)
        #expect(abs(ramp.fraction(after: .seconds(5)) - 0.55) < 1e-9)
        #expect(ramp.fraction(after: .seconds(10)) == 1)
        #expect(ramp.fraction(after: .seconds(60)) == 1)
    }
}

/// A clock tests move by hand.
final class FakeClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}

@Suite("Backend pool: weights, slow start, reload")
struct BackendPoolBalancingTests {
    static let a = BackendAddress(host: "10.0.0.1", port: 80)
    static let b = BackendAddress(host: "10.0.0.2", port: 80)

    static func pool(_ backends: [WeightedBackend], _ policy: BalancePolicy = .roundRobin, slowStart: Duration? = nil, clock: FakeClock = FakeClock())
        -> BackendPool
    {
        BackendPool(
            backends: backends,
            balancer: Balancer(policy, seed: 5),
            slowStart: slowStart.map { SlowStart(period: $0) },
            now: { clock.now },
            policy: HealthPolicy(),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
    }

    /// Shares of `count` picks by address, each finished at once.
    static func shares(_ pool: BackendPool, count: Int) -> [BackendAddress: Int] {
        var shares: [BackendAddress: Int] = [:]
        for _ in 0..<count {
            let picked = pool.next()!
            shares[picked, default: 0] += 1
            pool.finish(picked)
        }
        return shares
    }

    @Test("the pool counts in flight per backend and least-outstanding routes around it")
    func inFlightCounts() {
        let pool = Self.pool([WeightedBackend(Self.a), WeightedBackend(Self.b)], .leastOutstanding)
        let first = pool.next()!
        // The first one is still in flight, so the next three go... to the other, then alternate.
        #expect(pool.next() != first)
        #expect(pool.snapshot().map(\.inFlight) == [1, 1])
        pool.finish(first)
        #expect(pool.snapshot().map(\.inFlight).sorted() == [0, 1])
        #expect(pool.next() == first)
    }

    @Test("a backend returning to rotation ramps up its weight with slow start; the fake clock drives it")
    func slowStartOnReturn() throws {
        let clock = FakeClock()
        let pool = Self.pool([WeightedBackend(Self.a, weight: 9), WeightedBackend(Self.b, weight: 9)], slowStart: .seconds(10), clock: clock)
        #expect(pool.snapshot().map(\.effectiveWeight) == [9, 9])
        pool.record(.connectionRefused, for: Self.b)
        #expect(pool.snapshot()[1].inRotation == false)
        pool.record(.checkPassed, for: Self.b)
        #expect(pool.snapshot().map(\.effectiveWeight) == [9, 0.9])
        // At 10 % weight b gets 0.9 / 9.9 of the picks.
        let early = Self.shares(pool, count: 990)
        #expect(early[Self.b] == 90, "\(early)")
        clock.advance(by: .seconds(5))
        #expect(pool.snapshot()[1].effectiveWeight == 4.95)
        clock.advance(by: .seconds(5))
        #expect(pool.snapshot()[1].effectiveWeight == 9)
        let late = Self.shares(pool, count: 1000)
        #expect(late[Self.b] == 500, "\(late)")
    }

    @Test("a reload changes weights, keeps requests in flight, and ramps only the added backend")
    func reloadWeights() {
        let clock = FakeClock()
        let c = BackendAddress(host: "10.0.0.3", port: 80)
        let pool = Self.pool([WeightedBackend(Self.a), WeightedBackend(Self.b)], slowStart: .seconds(10), clock: clock)
        let held = pool.next()!
        pool.replace(with: [WeightedBackend(Self.a, weight: 3), WeightedBackend(Self.b), WeightedBackend(c, weight: 10)])
        let status = pool.snapshot()
        #expect(status.map(\.weight) == [3, 1, 10])
        #expect(status.map(\.effectiveWeight) == [3, 1, 1])
        #expect(status.map(\.inFlight).reduce(0, +) == 1)
        pool.finish(held)
        #expect(pool.snapshot().map(\.inFlight) == [0, 0, 0])
        clock.advance(by: .seconds(10))
        let shares = Self.shares(pool, count: 1400)
        #expect(shares == [Self.a: 300, Self.b: 100, c: 1000])
    }
}

@Suite("Backend weights: parsing")
struct WeightedBackendTests {
    @Test("HOST:PORT with an optional weight")
    func valid() throws {
        #expect(try WeightedBackend(parsing: "127.0.0.1:9000") == WeightedBackend(BackendAddress(host: "127.0.0.1", port: 9000)))
        #expect(try WeightedBackend(parsing: " web:80  weight=100 ").weight == 100)
        #expect(try WeightedBackend(parsing: "[::1]:80 weight=1").address.host == "::1")
    }

    @Test(
        "a bad weight or parameter says what is wrong",
        arguments: [
            ("a:80 weight=0", "bad weight '0': expected an integer from 1 to 100"),
            ("a:80 weight=101", "bad weight '101'"),
            ("a:80 weight=", "bad weight ''"),
            ("a:80 weight=2.5", "bad weight '2.5'"),
            ("a:80 w=2", "unknown parameter 'w=2'"),
            ("a weight=2", "expected HOST:PORT"),
        ]
    )
    func invalid(text: String, problem: String) {
        #expect {
            try WeightedBackend(parsing: text)
        } throws: { error in
            (error as? WeightedBackendError)?.problem.contains(problem) == true
        }
    }

    @Test("the configuration stops on a bad weight in CITYSCAPE_BACKENDS, naming the setting")
    func configuration() {
        let settings = SettingsReader(commandLine: [:], environment: ["CITYSCAPE_BACKENDS": "127.0.0.1:9000 weight=2,127.0.0.1:9001 weight=500"])
        #expect {
            try ProxyConfiguration(settings: settings)
        } throws: { error in
            "\(error)".contains("--backend / CITYSCAPE_BACKENDS") && "\(error)".contains("bad weight '500'")
        }
        let good = SettingsReader(
            commandLine: [:],
            environment: ["CITYSCAPE_BACKENDS": "127.0.0.1:9000 weight=2,127.0.0.1:9001", "CITYSCAPE_BALANCE": "p2c", "CITYSCAPE_SLOW_START": "10s"]
        )
        let configuration = try? ProxyConfiguration(settings: good)
        #expect(configuration?.backends.map(\.weight) == [2, 1])
        #expect(configuration?.balance == .p2c)
        #expect(configuration?.slowStart == SlowStart(period: .seconds(10)))
    }
}
