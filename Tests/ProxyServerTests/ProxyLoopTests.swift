import CityscapeTestSupport
import Dispatch
import EpollKit
import Foundation
import Glibc
import NIOCore
import Synchronization
import Testing

@testable import ProxyServer

/// The proxy's use of its loops: their lifetime, name resolution off them, and socket errors in its own terms.
@Suite("Proxy on its epoll loops")
struct ProxyLoopTests {
    @Test("proxies started and stopped in one process leave no loop thread behind")
    func proxiesLeaveNoThreads() async throws {
        let name = "plt\(Int.random(in: 1000..<9999))"
        try await withBackends(1) { backends in
            for _ in 0..<5 {
                try await withProxy(backends: [backends[0].address], loopCount: 2, loopName: name) { proxy in
                    let status = try await get("\(proxy.url)/whoami").status
                    #expect(status == 200)
                    #expect(proxyThreads(named: name) == 2)
                }
                try await waitFor { proxyThreads(named: name) == 0 }
            }
        }
    }

    @Test("a backend whose name takes long to resolve does not delay requests to another backend on the same loop")
    func slowResolutionStaysOffTheLoop() async throws {
        let lookups = Atomic(0)
        let release = DispatchSemaphore(value: 0)
        let resolver = OffLoopResolver { _, port in
            lookups.add(1, ordering: .relaxed)
            // Held until the other backend has answered (bounded, so a blocked loop fails the test instead of hanging it).
            _ = release.wait(timeout: .now() + 10)
            return [try SocketAddress(ipAddress: "127.0.0.1", port: port)]
        }
        try await withBackends(2) { backends in
            let slow = BackendAddress(host: "localhost", port: backends[0].address.port)
            try await withProxy(
                backends: [slow, backends[1].address],
                loopCount: 1,
                resolver: resolver,
                configure: { $0.health.interval = .seconds(60) }
            ) { proxy in
                async let first = get("\(proxy.url)/whoami")
                try await waitFor { lookups.load(ordering: .relaxed) == 1 }
                // The lookup for `localhost` is blocked right now; the only loop must still serve this one.
                let second = try await get("\(proxy.url)/whoami")
                let stillResolving = lookups.load(ordering: .relaxed) == 1 && backends[0].backend.count("/whoami") == 0
                release.signal()
                #expect(second.status == 200)
                #expect(stillResolving)
                #expect(backends[1].backend.count("/whoami") == 1)
                let firstStatus = try await first.status
                #expect(firstStatus == 200)
                #expect(backends[0].backend.count("/whoami") == 1)
            }
        }
    }

    @Test(
        "socket errors map to the proxy's failure cases: a refused or timed-out connect sent nothing",
        arguments: [
            (SocketError("connect", errno: ECONNREFUSED), true),
            (SocketError.timedOut("connect"), true),
            (SocketError("read", errno: ECONNRESET), false),
            (SocketError("write", errno: EPIPE), false),
        ]
    )
    func socketErrorsMap(error: SocketError, nothingSent: Bool) {
        let failure = BackendFailure(error)
        #expect(failure.nothingSent == nothingSent)
        switch (error.operation, error.errnoCode) {
        case ("connect", nil): #expect(failure == .connectTimeout)
        case ("connect", _): #expect(failure == .connectFailed(error.description))
        default: #expect(failure == .closedBeforeResponse(error.description))
        }
    }

    @Test("a refused connect on the proxy's loop is a connect failure, which the proxy counts as nothing sent")
    func refusedConnect() async throws {
        let group = try EpollLoopGroup(count: 1, name: "plt-refused")
        let loop = group.loops[0]
        let closed = try await closedPort()
        let address = try SocketAddress(ipAddress: closed.host, port: closed.port)
        let promise = loop.makePromise(of: BackendFailure?.self)
        loop.execute {
            TCPConnection.connect(to: address, on: loop, timeout: .seconds(2)) { result in
                switch result {
                case .success: promise.succeed(nil)
                case .failure(let error): promise.succeed(BackendFailure(error))
                }
            }
        }
        let failure = try await promise.futureResult.get()
        await group.shutdown()
        guard case .connectFailed = failure else {
            Issue.record("expected a connect failure, got \(String(describing: failure))")
            return
        }
        #expect(failure?.nothingSent == true)
    }
}

/// Threads of this process whose name starts with `prefix`.
private func proxyThreads(named prefix: String) -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.filter { task in
        ((try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? "").hasPrefix(prefix)
    }.count
}

/// Polls `condition` for up to 5 s.
private func waitFor(_ condition: () -> Bool) async throws {
    for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    #expect(condition())
}
