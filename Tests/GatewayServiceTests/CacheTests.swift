import Synchronization
import Testing

@testable import GatewayService

@Suite("LRU store and single-flight cache")
struct CacheTests {
    @Test("the least recently used entry is evicted first")
    func lruEviction() {
        var store = LRUStore<String, Int>(capacity: 2)
        let later = ContinuousClock.now + .seconds(60)
        store.set(1, for: "a", expires: later)
        store.set(2, for: "b", expires: later)
        #expect(store.value(for: "a", now: .now) == 1)  // a is now the most recent
        store.set(3, for: "c", expires: later)  // evicts b
        #expect(store.value(for: "b", now: .now) == nil)
        #expect(store.value(for: "a", now: .now) == 1)
        #expect(store.value(for: "c", now: .now) == 3)
        #expect(store.count == 2)
        store.set(4, for: "a", expires: later)
        store.set(5, for: "d", expires: later)  // evicts c
        #expect(store.value(for: "c", now: .now) == nil)
        #expect(store.value(for: "a", now: .now) == 4)
    }

    @Test("an expired entry reads as absent")
    func expiry() {
        var store = LRUStore<String, Int>(capacity: 4)
        let now = ContinuousClock.now
        store.set(1, for: "a", expires: now + .milliseconds(10))
        #expect(store.value(for: "a", now: now) == 1)
        #expect(store.value(for: "a", now: now + .milliseconds(10)) == nil)
    }

    @Test("a hit after a load; concurrent misses share one load")
    func singleFlight() async throws {
        let cache = SingleFlightCache<Int>(ttl: .seconds(60), capacity: 10)
        let loads = Tally()
        let sources = try await withThrowingTaskGroup(of: SingleFlightCache<Int>.Source.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let (value, source) = try await cache.value(for: "k") {
                        loads.count.add(1, ordering: .relaxed)
                        try await Task.sleep(for: .milliseconds(200))
                        return 42
                    }
                    #expect(value == 42)
                    return source
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(loads.count.load(ordering: .relaxed) == 1)
        #expect(sources.filter { $0 == .loaded }.count == 1)
        let (value, source) = try await cache.value(for: "k") { 0 }
        #expect(value == 42)
        #expect(source == .hit)
    }

    @Test("a failed load reaches every waiter and is not cached")
    func failure() async throws {
        struct Boom: Error {}
        let cache = SingleFlightCache<Int>(ttl: .seconds(60), capacity: 10)
        await #expect(throws: Boom.self) {
            _ = try await cache.value(for: "k") { throw Boom() }
        }
        let (value, source) = try await cache.value(for: "k") { 7 }
        #expect(value == 7)
        #expect(source == .loaded)
    }
}
