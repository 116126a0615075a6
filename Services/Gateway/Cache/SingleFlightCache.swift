import Synchronization

/// A TTL + LRU cache of upstream answers in which concurrent misses for one key share one upstream call.
///
/// The first request to miss a key loads it; requests for the same key arriving meanwhile wait for
/// that load instead of calling the upstream too (single flight), then all get its value or its
/// error. Loads in progress are kept apart from the LRU store so an eviction can never strand their
/// waiters. Only successes are cached.
final class SingleFlightCache<Value: Sendable>: Sendable {
    /// How a value was obtained.
    enum Source: Sendable, Equatable {
        /// From the store.
        case hit
        /// Shared from another request's call in progress.
        case joined
        /// Loaded by this request.
        case loaded
    }

    private struct State {
        var store: LRUStore<String, Value>
        var loading: [String: [CheckedContinuation<Value?, any Error>]] = [:]
    }

    private enum Step {
        case hit(Value)
        case join
        case load
    }

    let ttl: Duration
    private let state: Mutex<State>

    init(ttl: Duration, capacity: Int) {
        self.ttl = ttl
        self.state = Mutex(State(store: LRUStore(capacity: capacity)))
    }

    /// The cached value for `key`, or the result of `load` (run by exactly one of the concurrent callers).
    func value(for key: String, load: () async throws -> Value) async throws -> (Value, Source) {
        while true {
            let step: Step = state.withLock { state in
                if let value = state.store.value(for: key, now: .now) { return .hit(value) }
                if state.loading[key] != nil { return .join }
                state.loading[key] = []
                return .load
            }
            switch step {
            case .hit(let value):
                return (value, .hit)
            case .load:
                let result: Result<Value, any Error>
                do { result = .success(try await load()) } catch { result = .failure(error) }
                finish(key, result)
                return (try result.get(), .loaded)
            case .join:
                // nil means the load finished between the two locks: look again.
                if let value = try await join(key) { return (value, .joined) }
            }
        }
    }

    private func join(_ key: String) async throws -> Value? {
        try await withCheckedThrowingContinuation { continuation in
            let registered = state.withLock { state in
                guard state.loading[key] != nil else { return false }
                state.loading[key]?.append(continuation)
                return true
            }
            if !registered { continuation.resume(returning: nil) }
        }
    }

    private func finish(_ key: String, _ result: Result<Value, any Error>) {
        let waiters: [CheckedContinuation<Value?, any Error>] = state.withLock { state in
            if case .success(let value) = result {
                state.store.set(value, for: key, expires: .now + ttl)
            }
            return state.loading.removeValue(forKey: key) ?? []
        }
        for waiter in waiters {
            switch result {
            case .success(let value): waiter.resume(returning: value)
            case .failure(let error): waiter.resume(throwing: error)
            }
        }
    }
}
