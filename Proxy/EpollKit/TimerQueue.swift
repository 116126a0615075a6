import NIOCore

/// An `EpollLoop`'s timers: a binary heap by deadline. Cancelled entries stay in the heap and are skipped
/// when they come up, so cancelling costs nothing but a flag (the proxy's timers are cancelled far more
/// often than they fire); once they are most of a large heap it is rebuilt without them, so connection
/// churn with long idle timeouts does not pile them up.
struct TimerQueue {
    /// `@unchecked Sendable`: created anywhere, but its flag and closure are used only on the loop that owns
    /// the queue (`EpollLoop.scheduleTask` hops there before cancelling).
    final class Entry: @unchecked Sendable {
        private var fire: (() -> Void)?
        /// Called instead of `fire` when the loop stops first.
        private var abandon: (() -> Void)?

        init(fire: @escaping () -> Void, abandon: (() -> Void)? = nil) {
            self.fire = fire
            self.abandon = abandon
        }

        var isPending: Bool { fire != nil }

        /// Returns whether the entry was still pending.
        func cancel() -> Bool {
            defer {
                fire = nil
                abandon = nil
            }
            return fire != nil
        }

        func run() {
            guard let fire else { return }
            self.fire = nil
            abandon = nil
            fire()
        }

        /// The loop stopped before the deadline.
        func abandonIfPending() {
            guard fire != nil, let abandon else { return }
            fire = nil
            self.abandon = nil
            abandon()
        }
    }

    private var heap: [(deadline: NIODeadline, order: UInt64, entry: Entry)] = []
    private var added: UInt64 = 0
    /// Cancelled entries still in the heap (as far as `noteCancelled` was told).
    private var cancelled = 0

    var count: Int { heap.count }

    mutating func add(_ entry: Entry, at deadline: NIODeadline) {
        added &+= 1
        heap.append((deadline, added, entry))
        siftUp(heap.count - 1)
    }

    /// An entry in the heap was cancelled; past a threshold the heap is rebuilt without the cancelled ones.
    mutating func noteCancelled() {
        cancelled += 1
        guard heap.count >= 1024 && cancelled * 2 > heap.count else { return }
        heap.removeAll { !$0.entry.isPending }
        cancelled = 0
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard earlier(child, than: parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// The `epoll_wait` timeout: -1 with no timer, else the milliseconds until the first, rounded up.
    func millisecondsUntilNext(now: NIODeadline) -> Int32 {
        guard let first = heap.first else { return -1 }
        let nanoseconds = first.deadline.uptimeNanoseconds > now.uptimeNanoseconds ? first.deadline.uptimeNanoseconds - now.uptimeNanoseconds : 0
        return Int32(min((nanoseconds + 999_999) / 1_000_000, UInt64(Int32.max)))
    }

    /// The first entry whose deadline has passed, taken out of the queue. Its caller runs it: running it
    /// here would let it add a timer to the queue while the queue is being changed.
    mutating func popDue(now: NIODeadline) -> Entry? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        removeFirst()
        if !first.entry.isPending && cancelled > 0 { cancelled -= 1 }
        return first.entry
    }

    /// Empties the queue, telling every pending entry that it will never fire (the loop is stopping).
    mutating func abandonAll() {
        let entries = heap.map(\.entry)
        heap = []
        cancelled = 0
        for entry in entries { entry.abandonIfPending() }
    }

    private mutating func removeFirst() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            let right = left + 1
            let child = right < heap.count && earlier(right, than: left) ? right : left
            guard earlier(child, than: parent) else { return }
            heap.swapAt(child, parent)
            parent = child
        }
    }

    private func earlier(_ a: Int, than b: Int) -> Bool {
        heap[a].deadline < heap[b].deadline || (heap[a].deadline == heap[b].deadline && heap[a].order < heap[b].order)
    }
}
