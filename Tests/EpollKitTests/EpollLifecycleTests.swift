import CityscapeTestSupport
import Foundation
import Glibc
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import EpollKit

/// Loops that stop, syscalls whose failures are reported, and name resolution that stays off the loop.
@Suite("Epoll loop: shutdown, errors, resolution")
struct EpollLifecycleTests {
    @Test("a group's threads exist while it runs and are gone after shutdown, ten times over")
    func shutdownEndsTheThreads() async throws {
        let prefix = "elc\(Int.random(in: 1000..<9999))-"
        #expect(threads(named: prefix) == 0)
        for round in 0..<10 {
            let group = try EpollLoopGroup(count: 2, name: "\(prefix)\(round)")
            try await group.loops[0].submit {}.get()
            try await group.loops[1].submit {}.get()
            #expect(threads(named: prefix) == 2)
            await group.shutdown()
            try await waitUntil { threads(named: prefix) == 0 }
        }
        #expect(threads(named: prefix) == 0)
    }

    @Test("shutdown fails pending timers and closes open connections, whose delegates hear of it")
    func shutdownClosesWhatIsOpen() async throws {
        let group = try EpollLoopGroup(count: 1, name: "elc-close")
        let loop = group.loops[0]
        let peer = try SilentListener()
        defer { peer.close() }
        let timer = loop.scheduleTask(in: .seconds(60)) {}
        let closed = Mutex<SocketError?>(nil)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: peer.port)
        let connected = loop.makePromise(of: Bool.self)
        loop.execute {
            TCPConnection.connect(to: address, on: loop, timeout: .seconds(2)) { result in
                guard case .success(let connection) = result else { return connected.succeed(false) }
                connection.delegate = CloseWatcher { error in closed.withLock { $0 = error } }
                connected.succeed(true)
            }
        }
        #expect(try await connected.futureResult.get())
        await group.shutdown()
        await #expect(throws: EventLoopError.shutdown) { try await timer.futureResult.get() }
        #expect(closed.withLock { $0 } == SocketError("event loop shut down", errno: ECANCELED))
    }

    @Test("a timer set on a stopped loop, or by a task the stop runs, fails at once instead of never")
    func timersAfterTheStopFail() async throws {
        let group = try EpollLoopGroup(count: 1, name: "elc-late")
        let loop = group.loops[0]
        let setByLastTask = Mutex<Scheduled<Void>?>(nil)
        // Queued together with the stop, so it runs while the loop stops.
        loop.execute { setByLastTask.withLock { $0 = loop.scheduleTask(in: .seconds(60)) {} } }
        await group.shutdown()
        let late = loop.scheduleTask(in: .milliseconds(1)) {}
        await #expect(throws: EventLoopError.shutdown) { try await late.futureResult.get() }
        let fromTask = try #require(setByLastTask.withLock { $0 })
        await #expect(throws: EventLoopError.shutdown) { try await fromTask.futureResult.get() }
    }

    @Test("a listener on a group accepts, and after close refuses")
    func listenerAcceptsThenCloses() async throws {
        let group = try EpollLoopGroup(count: 2, name: "elc-listen")
        let accepted = Atomic(0)
        let listener = try TCPListener(host: "127.0.0.1", port: 0, backlog: 16, group: group, onError: { _ in }) { connection in
            accepted.add(1, ordering: .relaxed)
            connection.close()
        }
        let port = listener.localAddress.port ?? 0
        for _ in 0..<3 { #expect(LoopbackSocket.accepts(port: port)) }
        try await waitUntil { accepted.load(ordering: .relaxed) == 3 }
        await listener.close()
        // The last loop closes the socket at the end of its turn.
        try await waitUntil { !LoopbackSocket.accepts(port: port) }
        await group.shutdown()
    }

    @Test("a slow lookup runs off the loop: the loop keeps serving while it blocks, then the answer arrives there")
    func slowLookupDoesNotBlockTheLoop() async throws {
        let group = try EpollLoopGroup(count: 1, name: "elc-resolve")
        let loop = group.loops[0]
        let release = DispatchSemaphore(value: 0)
        let resolver = OffLoopResolver { host, port in
            // Blocks until the test has seen the loop answer meanwhile (bounded, so a failure cannot hang).
            _ = release.wait(timeout: .now() + 5)
            return [try SocketAddress(ipAddress: "127.0.0.1", port: port)]
        }
        let answer = loop.makePromise(of: Int.self)
        loop.execute {
            resolver.resolve("slow.example", port: 4242, on: loop) { result in
                precondition(loop.inEventLoop)
                answer.succeed((try? result.get())?.first?.port ?? -1)
            }
        }
        // The loop runs other work while the lookup blocks its pool thread.
        for _ in 0..<3 { try await loop.submit {}.get() }
        release.signal()
        #expect(try await answer.futureResult.get() == 4242)
        await group.shutdown()
    }

    @Test("a literal address is answered at once, with no lookup")
    func literalNeedsNoLookup() async throws {
        let group = try EpollLoopGroup(count: 1, name: "elc-literal")
        let loop = group.loops[0]
        let resolver = OffLoopResolver { host, _ in throw ResolutionError(host: host, reason: "looked up") }
        let answer = try await loop.submit {
            var addresses: [SocketAddress] = []
            resolver.resolve("::1", port: 80, on: loop) { addresses = (try? $0.get()) ?? [] }
            return addresses.map(\.description)
        }.get()
        #expect(answer.count == 1)
        await group.shutdown()
    }
}

/// Threads of this process whose name starts with `prefix`.
func threads(named prefix: String) -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.filter { task in
        ((try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? "").hasPrefix(prefix)
    }.count
}

/// Polls `condition` for up to 2 s (a thread ends just after it reports that it has stopped).
func waitUntil(_ condition: () -> Bool) async throws {
    for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    #expect(condition())
}

/// Reports the close of one connection.
private final class CloseWatcher: TCPConnectionDelegate {
    let onClose: (SocketError?) -> Void

    init(onClose: @escaping (SocketError?) -> Void) {
        self.onClose = onClose
    }

    func connectionRead(_ buffer: ByteBuffer) {}
    func connectionReadComplete() {}
    func connectionWritabilityChanged() {}
    func connectionClosed(_ error: SocketError?) { onClose(error) }
}
