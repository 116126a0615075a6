// The cost of one pick + finish in the proxy's backend pool, per balancing policy, uncontended on one thread:
// the same `Mutex`, candidate array and policies as `BackendPool`, compiled with -O alongside
// Proxy/Balancing (see bench/balance/README.md). The "cursor" row is the plain round-robin cursor the pool
// used before weights, for comparison.
import Synchronization

@main
struct PickBench {
    struct State {
        var candidates: [BalanceCandidate]
        var balancer: Balancer
        var cursor = 0
    }

    static func candidates(_ count: Int) -> [BalanceCandidate] {
        (0..<count).map { BalanceCandidate(address: BackendAddress(host: "127.0.0.1", port: 9000 + $0)) }
    }

    /// Nanoseconds per pick + finish, best of `rounds`.
    static func measure(backends: Int, rounds: Int = 5, iterations: Int = 2_000_000, _ pickAndFinish: (borrowing Mutex<State>) -> Int) -> Double {
        var best = Double.infinity
        for _ in 0..<rounds {
            let state = Mutex(State(candidates: candidates(backends), balancer: Balancer(.roundRobin)))
            let start = ContinuousClock.now
            var sink = 0
            for _ in 0..<iterations { sink &+= pickAndFinish(state) }
            let elapsed = ContinuousClock.now - start
            precondition(sink >= 0)
            best = min(best, Double(elapsed.components.attoseconds) / 1e9 + Double(elapsed.components.seconds) * 1e9)
        }
        return best / Double(iterations)
    }

    static func policy(_ policy: BalancePolicy, backends: Int) -> Double {
        var first = true
        return measure(backends: backends) { state in
            if first {
                state.withLock { $0.balancer = Balancer(policy, seed: 42) }
                first = false
            }
            let address = state.withLock { state -> BackendAddress in
                let index = state.balancer.pick(from: state.candidates, excluding: [])!
                state.candidates[index].inFlight += 1
                return state.candidates[index].address
            }
            return state.withLock { state in
                let index = state.candidates.firstIndex { $0.address == address }!
                state.candidates[index].inFlight -= 1
                return index
            }
        }
    }

    static func cursor(backends: Int) -> Double {
        measure(backends: backends) { state in
            let address = state.withLock { state -> BackendAddress in
                let count = state.candidates.count
                for offset in 0..<count {
                    let index = (state.cursor + offset) % count
                    guard state.candidates[index].inRotation else { continue }
                    state.cursor = (index + 1) % count
                    state.candidates[index].inFlight += 1
                    return state.candidates[index].address
                }
                fatalError()
            }
            return state.withLock { state in
                let index = state.candidates.firstIndex { $0.address == address }!
                state.candidates[index].inFlight -= 1
                return index
            }
        }
    }

    static func main() {
        print("ns per pick + finish (uncontended, best of 5 × 2M)")
        print("backends  cursor  round-robin  least-outstanding  p2c")
        for backends in [2, 4, 8] {
            let row = [cursor(backends: backends)] + BalancePolicy.allCases.map { policy($0, backends: backends) }
            print("\(backends)".padding(8) + row.map { String(format1: $0).padding(12) }.joined())
        }
    }
}

extension String {
    init(format1 value: Double) { self = String(Double(Int(value * 10)) / 10) }
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
