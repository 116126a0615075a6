import Synchronization

/// Open client connections of one listener, shared by all its event loops.
final class ConnectionCounter: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts a new connection and returns how many are open, this one included.
    func opened() -> Int { count.wrappingAdd(1, ordering: .relaxed).newValue }

    func closed() { count.subtract(1, ordering: .relaxed) }
}
