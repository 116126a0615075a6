import CityscapeKit
import CityscapeTestSupport
import Synchronization
import Testing
import UpstreamKit

/// The blocking transport's thread pool, without HTTP: FIFO, bounded queue, cancellation.
@Suite("Curl worker pool")
struct WorkerPoolTests {
    @Test("with one thread, requests run one at a time in arrival order; beyond the queue limit they are refused")
    func fifoAndLimit() async throws {
        let pool = CurlWorkerPool(threads: 1, queueLimit: 2)
        defer { pool.shutDown() }
        let tally = Tally()
        @Sendable func job(_ index: Int) async throws -> Int {
            try await pool.withWorker { _, _ in
                let now = tally.count.add(1, ordering: .relaxed).newValue
                tally.peak.max(now, ordering: .relaxed)
                tally.order.withLock { $0.append(index) }
                // The first job holds the thread until the test has queued the others.
                while index == 0 && !tally.flag.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
                tally.count.subtract(1, ordering: .relaxed)
                return index
            }
        }
        let first = Task { try await job(0) }
        try await eventually { tally.order.withLock { $0 } == [0] }
        let second = Task { try await job(1) }
        try await eventually { pool.queueDepth == 1 }
        let third = Task { try await job(2) }
        try await eventually { pool.queueDepth == 2 }
        // The queue is full: the fourth is refused at once, without waiting.
        await #expect(throws: WorkerPoolError.overloaded) { try await job(3) }
        tally.flag.store(true, ordering: .relaxed)
        let results = [try await first.value, try await second.value, try await third.value]
        #expect(results == [0, 1, 2])
        #expect(tally.order.withLock { $0 } == [0, 1, 2])
        #expect(tally.peak.load(ordering: .relaxed) == 1)
    }

    @Test("a request cancelled while waiting never runs")
    func cancelledWhileWaiting() async throws {
        let pool = CurlWorkerPool(threads: 1, queueLimit: 4)
        defer { pool.shutDown() }
        let holding = Tally()
        let ran = Tally()
        // The holder keeps the only thread until the test lets go, so the waiter is queued however slow the machine.
        let holder = Task {
            try await pool.withWorker { _, _ in
                holding.count.add(1, ordering: .relaxed)
                while !holding.flag.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
            }
        }
        try await eventually { holding.count.load(ordering: .relaxed) == 1 }
        let waiter = Task { try await pool.withWorker { _, _ in ran.flag.store(true, ordering: .relaxed) } }
        try await eventually { pool.queueDepth == 1 }
        waiter.cancel()
        await #expect(throws: WorkerPoolError.cancelled) { try await waiter.value }
        #expect(pool.queueDepth == 0)
        holding.flag.store(true, ordering: .relaxed)
        try await holder.value
        // One thread, FIFO: had the cancelled waiter stayed queued, it would run before this job.
        try await pool.withWorker { _, _ in }
        #expect(ran.flag.load(ordering: .relaxed) == false)
    }

    @Test("a leased worker makes real curl calls; a refused port is a connection failure")
    func curlCall() async throws {
        let pool = CurlWorkerPool(threads: 1, queueLimit: 0)
        defer { pool.shutDown() }
        let error = try await pool.withWorker { worker, _ -> UpstreamError? in
            do throws(UpstreamError) {
                _ = try await worker.get("http://127.0.0.1:1/nothing", headers: [], timeout: .seconds(2))
                return nil
            } catch {
                return error
            }
        }
        #expect(error == .connectionFailed(""))
    }
}
