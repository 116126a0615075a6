import CityscapeKit
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The proxy listener: a NIO server whose connections are served by `ProxyHandler`, as a `Service`.
///
/// Written directly on NIO channel handlers rather than on Hummingbird and AsyncHTTPClient: a proxy does
/// almost nothing per request but move bytes, so the per-request cost of tasks, async streams and a
/// second HTTP client (about 10 times nginx's CPU per request, measured in session 2) was the whole cost.
///
/// Shutdown: on graceful shutdown the listening socket closes and every connection is told to quiesce;
/// `ProxyHandler` closes each one after its current response (or after a short grace when idle).
/// Connections still open when the service group's drain timeout cancels this service are closed.
struct ProxyListener: Service {
    let host: String
    let port: Int
    let forwarder: Forwarder
    let connectionGuard: ConnectionGuard
    let upstreamSettings: UpstreamConnectionPool.Settings
    let onListening: @Sendable (_ url: String) async -> Void

    func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let pools = try await UpstreamPools.make(group: group, settings: upstreamSettings)
        let open = OpenChannels()
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Accept a burst of new clients in one go: at NIO's default (4 per wake-up), 1,000 clients arriving
            // together (wrk -c1000) waited up to a second behind the traffic of those already accepted.
            .serverChannelOption(.maxMessagesPerRead, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [forwarder, connectionGuard] channel in
                channel.eventLoop.makeCompletedFuture {
                    open.insert(channel)
                    let handler = ProxyHandler(
                        forwarder: forwarder,
                        upstreams: pools.pool(for: channel.eventLoop),
                        policy: connectionGuard.policy,
                        overCapacity: connectionGuard.admit(channel)
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .bind(host: host, port: port)
            .get()
        await onListening(ServiceApplication.listeningURL(server.localAddress, fallbackHost: host))

        try? await gracefulShutdown()
        try? await server.close()
        open.quiesceAll()
        await withTaskCancellationHandler {
            await open.drained()
        } onCancel: {
            open.closeAll()
        }
        pools.closeAll()
    }
}

/// One `UpstreamConnectionPool` per event loop of the group, made up front so lookups need no lock.
struct UpstreamPools: Sendable {
    private let pools: [ObjectIdentifier: NIOLoopBound<UpstreamConnectionPool>]

    static func make(group: MultiThreadedEventLoopGroup, settings: UpstreamConnectionPool.Settings) async throws -> UpstreamPools {
        var loops: [any EventLoop] = []
        for loop in group.makeIterator() { loops.append(loop) }
        var perLoop = settings
        // `--pool-size` is per backend for the whole process; each loop keeps its share.
        perLoop.maxIdlePerBackend = max(1, (settings.maxIdlePerBackend + loops.count - 1) / loops.count)
        var pools: [ObjectIdentifier: NIOLoopBound<UpstreamConnectionPool>] = [:]
        for loop in loops {
            pools[ObjectIdentifier(loop)] = try await loop.submit { [perLoop] in
                NIOLoopBound(UpstreamConnectionPool(eventLoop: loop, settings: perLoop), eventLoop: loop)
            }.get()
        }
        return UpstreamPools(pools: pools)
    }

    /// The pool of `eventLoop`; call on that loop.
    func pool(for eventLoop: any EventLoop) -> UpstreamConnectionPool {
        pools[ObjectIdentifier(eventLoop)]!.value
    }

    func closeAll() {
        for pool in pools.values {
            pool.eventLoop.execute { pool.value.closeAll() }
        }
    }
}

/// The listener's open client connections: told to quiesce on shutdown, awaited until they have closed,
/// and closed outright if the drain runs out of time.
final class OpenChannels: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func insert(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.channels[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.channels.removeValue(forKey: id)
                guard state.channels.isEmpty else { return [] }
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Sends every connection the event that makes `ProxyHandler` close it after its current response.
    func quiesceAll() {
        for channel in state.withLock({ Array($0.channels.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// Returns once no connection is open.
    func drained() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.channels.isEmpty { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    func closeAll() {
        for channel in state.withLock({ Array($0.channels.values) }) { channel.close(promise: nil) }
    }
}
