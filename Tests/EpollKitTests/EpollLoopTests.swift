import CityscapeTestSupport
import Foundation
import Glibc
import NIOCore
import Synchronization
import Testing

@testable import EpollKit

/// The proxy's own event loop: tasks, timers, and non-blocking sockets on real loopback connections.
@Suite("Epoll loop: tasks, timers, sockets")
struct EpollLoopTests {
    /// One loop for the suite, alive for the test process.
    static let loop = try! EpollLoopGroup(count: 1, name: "ekt-suite").loops[0]

    @Test("tasks sent from other threads run on the loop, in order")
    func tasksRunOnTheLoop() async throws {
        let seen = Mutex<[Int]>([])
        for index in 0..<100 {
            Self.loop.execute {
                precondition(Self.loop.inEventLoop)
                seen.withLock { $0.append(index) }
            }
        }
        try await Self.loop.submit {}.get()
        #expect(seen.withLock { $0 } == Array(0..<100))
        #expect(!Self.loop.inEventLoop)
    }

    @Test("turnTime is the time of the current turn: never ahead of the clock, and read again on each later turn")
    func turnTimeFollowsTheTurns() async throws {
        let first = try await Self.loop.submit { Self.loop.turnTime }.get()
        #expect(first <= NIODeadline.now())
        try await Task.sleep(for: .milliseconds(20))
        // Sent after the first task's turn had ended, so it runs in a later turn, which read the clock again.
        let later = try await Self.loop.submit { Self.loop.turnTime }.get()
        #expect(later > first)
        #expect(later <= NIODeadline.now())
    }

    @Test("timers fire in deadline order, whatever order they were set in; a cancelled one never fires")
    func timersFireInOrder() async throws {
        let fired = Mutex<[Int]>([])
        let delays = [40, 10, 30, 20]
        var futures: [EventLoopFuture<Void>] = []
        for delay in delays {
            futures.append(Self.loop.scheduleTask(in: .milliseconds(Int64(delay))) { fired.withLock { $0.append(delay) } }.futureResult)
        }
        let cancelled = Self.loop.scheduleTask(in: .milliseconds(25)) { fired.withLock { $0.append(25) } }
        cancelled.cancel()
        for future in futures { try await future.get() }
        await #expect(throws: EventLoopError.cancelled) { try await cancelled.futureResult.get() }
        #expect(fired.withLock { $0 } == [10, 20, 30, 40])
    }

    @Test("cancelled timers are dropped from a large heap once they are most of it; the rest still fire in order")
    func cancelledTimersAreCompacted() {
        var queue = TimerQueue()
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var fired: [Int] = []
        var entries: [TimerQueue.Entry] = []
        for index in 0..<2000 {
            // Deadlines in a scrambled order, so the rebuilt heap has to order them again.
            let entry = TimerQueue.Entry(fire: { fired.append(index) })
            entries.append(entry)
            queue.add(entry, at: start + .milliseconds(Int64((index * 7919) % 2000)))
        }
        for (index, entry) in entries.enumerated() where index % 4 != 0 {
            if entry.cancel() { queue.noteCancelled() }
        }
        #expect(queue.count < 1000, "cancelled entries kept: \(queue.count) in the heap")
        while let due = queue.popDue(now: start + .seconds(10)) { due.run() }
        let kept = (0..<2000).filter { $0 % 4 == 0 }
        #expect(fired.count == kept.count)
        #expect(fired == kept.sorted { ($0 * 7919) % 2000 < ($1 * 7919) % 2000 })
    }

    @Test("a refused connect fails with the connect's ECONNREFUSED")
    func refusedConnect() async throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: try closedPort())
        let failure: SocketError? = try await Self.connect(to: address) { result, promise in
            switch result {
            case .success: promise.succeed(nil)
            case .failure(let error): promise.succeed(error)
            }
        }
        #expect(failure == SocketError("connect", errno: ECONNREFUSED))
    }

    @Test("writes beyond the high-water mark make the connection unwritable while the peer does not read")
    func backpressure() async throws {
        let peer = try SilentListener()
        defer { peer.close() }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: peer.port)
        // More than loopback's socket buffers on both sides can hold.
        let payload = ByteBuffer(repeating: 0x61, count: 32 * 1024 * 1024)
        let changes = Mutex<[Bool]>([])
        let connected: Bool = try await Self.connect(to: address) { result, promise in
            guard case .success(let connection) = result else { return promise.succeed(false) }
            connection.delegate = WritabilityWatcher(connection: connection) { writable in changes.withLock { $0.append(writable) } }
            connection.write(payload)
            connection.flush()
            promise.succeed(true)
        }
        #expect(connected)
        try await Task.sleep(for: .milliseconds(200))
        #expect(changes.withLock { $0 } == [false])
    }

    /// Connects on the loop and lets `onResult` turn the outcome into a value.
    static func connect<Value: Sendable>(
        to address: SocketAddress,
        _ onResult: @escaping @Sendable (Result<TCPConnection, SocketError>, EventLoopPromise<Value>) -> Void
    ) async throws -> Value {
        let promise = loop.makePromise(of: Value.self)
        loop.execute {
            TCPConnection.connect(to: address, on: loop, timeout: .seconds(2)) { result in onResult(result, promise) }
        }
        return try await promise.futureResult.get()
    }
}

/// Reports writability changes of one connection.
private final class WritabilityWatcher: TCPConnectionDelegate {
    let connection: TCPConnection
    let onChange: (Bool) -> Void

    init(connection: TCPConnection, onChange: @escaping (Bool) -> Void) {
        self.connection = connection
        self.onChange = onChange
    }

    func connectionRead(_ buffer: ByteBuffer) {}
    func connectionReadComplete() {}
    func connectionWritabilityChanged() { onChange(connection.isWritable) }
    func connectionClosed(_ error: SocketError?) {}
}

/// A port on 127.0.0.1 that refuses connections (see `SilentListener.refusedPort`).
func closedPort() throws -> Int {
    try SilentListener.refusedPort()
}
