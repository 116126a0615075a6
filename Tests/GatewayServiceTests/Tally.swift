import Synchronization

/// Shared counters and logs for concurrent test tasks (a class, so escaping closures can share it).
final class Tally: Sendable {
    let count = Atomic<Int>(0)
    let peak = Atomic<Int>(0)
    let flag = Atomic<Bool>(false)
    let order = Mutex<[Int]>([])
}
