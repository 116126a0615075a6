import CityscapeKit
import CityscapeTestSupport
import Synchronization
import Testing

@testable import UpstreamKit

/// The blocking transport's thread pool: FIFO, bounded queue, cancellation of waiting requests and of curl calls.
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

    // MARK: Cancelling curl calls

    @Test("a call under way in libcurl ends as cancelled when its task is cancelled, long before its timeout, and the worker goes on serving")
    func runningCallCancelled() async throws {
        let silent = try await ScriptedServer(answer: "", closeAfterAnswer: false)
        let answering = try await ScriptedServer(answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", closeAfterAnswer: false)
        let pool = CurlWorkerPool(threads: 1, queueLimit: 0)
        defer { pool.shutDown() }
        let call = Task {
            try await pool.withWorker { worker, _ in
                try await worker.get("http://127.0.0.1:\(silent.port)/x", headers: [], timeout: .seconds(60))
            }
        }
        // Connected: the thread is in libcurl, waiting for an answer that never comes.
        try await eventually { silent.connections == 1 }
        let cancelled = ContinuousClock.now
        call.cancel()
        await #expect(throws: UpstreamError.cancelled("")) { try await call.value }
        #expect(ContinuousClock.now - cancelled < .seconds(10), "the call ran towards its 60 s timeout")
        let next = try await pool.withWorker { worker, _ in
            try await worker.get("http://127.0.0.1:\(answering.port)/x", headers: [], timeout: .seconds(5))
        }
        #expect(next.status == 200)
        await silent.close()
        await answering.close()
    }

    @Test("a call queued behind another on the leased thread and cancelled before it starts is never made")
    func queuedCallCancelled() async throws {
        let silent = try await ScriptedServer(answer: "", closeAfterAnswer: false)
        let answering = try await ScriptedServer(answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", closeAfterAnswer: false)
        let pool = CurlWorkerPool(threads: 1, queueLimit: 0)
        defer { pool.shutDown() }
        try await pool.withWorker { worker, _ in
            let first = Task { try await worker.get("http://127.0.0.1:\(silent.port)/x", headers: [], timeout: .seconds(60)) }
            try await eventually { silent.connections == 1 }
            let second = Task { try await worker.get("http://127.0.0.1:\(answering.port)/x", headers: [], timeout: .seconds(5)) }
            try await eventually { worker.thread.queuedJobs == 1 }
            second.cancel()
            // Answered while the thread is still busy with the first call.
            await #expect(throws: UpstreamError.cancelled("")) { try await second.value }
            #expect(silent.connections == 1 && worker.thread.queuedJobs == 1)
            first.cancel()
            await #expect(throws: UpstreamError.cancelled("")) { try await first.value }
            // The thread runs its jobs in order: this one comes after the cancelled one, which had to be skipped.
            let third = try await worker.get("http://127.0.0.1:\(answering.port)/x", headers: [], timeout: .seconds(5))
            #expect(third.status == 200)
        }
        #expect(answering.connections == 1, "the cancelled call reached the upstream")
        await silent.close()
        await answering.close()
    }

    @Test("consecutive calls on a worker share one keep-alive connection")
    func keepAlive() async throws {
        let answering = try await ScriptedServer(answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", closeAfterAnswer: false)
        let pool = CurlWorkerPool(threads: 1, queueLimit: 0)
        defer { pool.shutDown() }
        for _ in 0..<3 {
            let response = try await pool.withWorker { worker, _ in
                try await worker.get("http://127.0.0.1:\(answering.port)/x", headers: [], timeout: .seconds(5))
            }
            #expect(String(decoding: response.body, as: UTF8.self) == "ok")
        }
        #expect(answering.connections == 1)
        await answering.close()
    }
}
