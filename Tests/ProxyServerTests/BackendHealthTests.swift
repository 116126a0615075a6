import Testing

@testable import ProxyServer

@Suite("Backend health state machine")
struct BackendHealthTests {
    @Test("fall consecutive failures eject; a success in between resets", arguments: [1, 2, 3])
    func fallThreshold(fall: Int) {
        var health = BackendHealth.healthy
        for _ in 0..<(fall - 1) {
            health = health.next(after: .requestFailed, rise: 1, fall: fall)
            #expect(health.inRotation)
        }
        #expect(health.next(after: .requestSucceeded, rise: 1, fall: fall) == .healthy)
        health = health.next(after: .checkFailed, rise: 1, fall: fall)
        #expect(health == .ejected)
    }

    @Test("a refused connection ejects at once")
    func refusedEjects() {
        #expect(BackendHealth.healthy.next(after: .connectionRefused, rise: 2, fall: 5) == .ejected)
        #expect(BackendHealth.suspect(failures: 1).next(after: .connectionRefused, rise: 2, fall: 5) == .ejected)
    }

    @Test("only rise passing checks bring an ejected backend back; request results do not", arguments: [1, 2, 3])
    func riseThreshold(rise: Int) {
        var health = BackendHealth.ejected
        #expect(health.next(after: .requestSucceeded, rise: rise, fall: 2) == .ejected)
        for step in 1...rise {
            health = health.next(after: .checkPassed, rise: rise, fall: 2)
            #expect(health.inRotation == (step == rise))
        }
        #expect(health == .healthy)
    }

    @Test("a failed check while recovering ejects again")
    func recoveringFails() {
        let health = BackendHealth.recovering(passes: 1)
        #expect(health.next(after: .checkFailed, rise: 3, fall: 2) == .ejected)
        #expect(health.next(after: .requestSucceeded, rise: 3, fall: 2) == health)
    }
}
