import CityscapeKit
import EpollKit
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The proxy listener: a `TCPListener` on the proxy's own event loops (`EpollLoopGroup`, passed in) whose
/// connections are served by `ProxyHandler`, as a `Service`.
///
/// Written directly on sockets rather than on Hummingbird and AsyncHTTPClient or NIO's channels: a proxy
/// does almost nothing per request but move bytes, so per-request machinery is most of its cost
/// (Proxy/EpollKit/README.md).
///
/// Shutdown: on graceful shutdown the listening socket closes and every connection is told to quiesce;
/// `ProxyHandler` closes each one after its current response (or after a short grace when idle).
/// Connections still open when the service group's drain timeout cancels this service are closed.
struct ProxyListener: Service {
    let host: String
    let port: Int
    let group: EpollLoopGroup
    let resolver: OffLoopResolver
    let forwarder: Forwarder
    let connectionGuard: ConnectionGuard
    let upstreamSettings: UpstreamConnectionPool.Settings
    let onListening: @Sendable (_ url: String) async -> Void

    func run() async throws {
        let perLoop = try await ListenerLoops.make(loops: group.loops, settings: upstreamSettings, resolver: resolver, metrics: forwarder.metrics)
        // Also when binding fails: the loops outlive this listener and must let go of what it left on them.
        defer { perLoop.closeAll() }
        let open = OpenConnections()
        let logger = forwarder.logger
        let listener = try TCPListener(
            host: host,
            port: port,
            backlog: 4096,
            group: group,
            onError: { error in logger.error("proxy listener: \(error); accepting pauses for 100 ms on that loop") }
        ) { [forwarder, connectionGuard] connection in
            let loop = connection.loop
            let id = open.nextID()
            let state = perLoop.state(of: loop)
            let handler = ProxyHandler(
                connection: connection,
                forwarder: forwarder,
                upstreams: state.upstreams,
                tally: state.tally,
                policy: connectionGuard.policy,
                overCapacity: connectionGuard.admitConnection(),
                onClose: {
                    connectionGuard.connectionClosed()
                    open.remove(id)
                }
            )
            open.insert(id, NIOLoopBound(handler, eventLoop: loop))
        }
        await onListening(ServiceApplication.listeningURL(listener.localAddress, fallbackHost: host))

        try? await gracefulShutdown()
        await listener.close()
        open.quiesceAll()
        await withTaskCancellationHandler {
            await open.drained()
        } onCancel: {
            open.closeAll()
        }
    }
}

/// What each event loop keeps for the listener (its upstream connections, its request tally), made up
/// front so a connection finds its loop's without a lock.
struct ListenerLoops: Sendable {
    final class State {
        let upstreams: UpstreamConnectionPool
        let tally: RequestTally

        init(upstreams: UpstreamConnectionPool, tally: RequestTally) {
            self.upstreams = upstreams
            self.tally = tally
        }
    }

    private let states: [ObjectIdentifier: NIOLoopBound<State>]

    static func make(
        loops: [EpollLoop],
        settings: UpstreamConnectionPool.Settings,
        resolver: OffLoopResolver,
        metrics: ProxyMetrics
    ) async throws -> ListenerLoops {
        var perLoop = settings
        // `--pool-size` is per backend for the whole process; each loop keeps its share.
        perLoop.maxIdlePerBackend = max(1, (settings.maxIdlePerBackend + loops.count - 1) / loops.count)
        var states: [ObjectIdentifier: NIOLoopBound<State>] = [:]
        for loop in loops {
            states[ObjectIdentifier(loop)] = try await loop.submit { [perLoop] in
                let state = State(
                    upstreams: UpstreamConnectionPool(eventLoop: loop, settings: perLoop, resolver: resolver),
                    tally: RequestTally(metrics: metrics, loop: loop)
                )
                return NIOLoopBound(state, eventLoop: loop)
            }.get()
        }
        return ListenerLoops(states: states)
    }

    /// The state of `loop`; call on that loop.
    func state(of loop: EpollLoop) -> State {
        states[ObjectIdentifier(loop)]!.value
    }

    func closeAll() {
        for state in states.values {
            state.eventLoop.execute {
                state.value.upstreams.closeAll()
                state.value.tally.stop()
            }
        }
    }
}

/// The listener's open client connections: told to quiesce on shutdown, awaited until they have closed,
/// and closed outright if the drain runs out of time.
final class OpenConnections: Sendable {
    private struct State {
        var nextID = 0
        var connections: [Int: NIOLoopBound<ProxyHandler>] = [:]
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func nextID() -> Int {
        state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
    }

    func insert(_ id: Int, _ handler: NIOLoopBound<ProxyHandler>) {
        state.withLock { $0.connections[id] = handler }
    }

    func remove(_ id: Int) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.connections.removeValue(forKey: id)
            guard state.connections.isEmpty else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Tells every connection to close after its current response.
    func quiesceAll() {
        for handler in state.withLock({ Array($0.connections.values) }) {
            handler.eventLoop.execute { handler.value.quiesce() }
        }
    }

    /// Returns once no connection is open.
    func drained() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.connections.isEmpty { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    func closeAll() {
        for handler in state.withLock({ Array($0.connections.values) }) {
            handler.eventLoop.execute { handler.value.close() }
        }
    }
}
