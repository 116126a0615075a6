import NIOCore
import NIOPosix

/// The keep-alive connections of one event loop to every upstream it calls.
///
/// Only its event loop touches it, and every connection it opens runs on that loop too, so a request that
/// starts on a loop is written, answered and resumed there: no lock, no hop to another thread. Idle
/// connections are reused last-in first-out, so a quiet period leaves the oldest ones unused; a sweep every
/// `idleLimit` closes those that reached it (before the upstream's own idle timeout can race a request) and
/// forgets those the upstream closed, so a pool that was large once gives its sockets back.
final class LoopConnectionPool {
    private let eventLoop: any EventLoop
    private let connectTimeout: TimeAmount
    private let idleLimit: TimeAmount
    private typealias IdleConnection = (handler: UpstreamExchangeHandler, since: NIODeadline)
    /// The idle connections of one origin. A class, so a call finds its origin's list with one lookup and changes it in
    /// place: changing an array through the dictionary's subscript runs an accessor coroutine whose frame is allocated.
    private final class IdleList {
        var connections: [IdleConnection] = []
    }
    private var idle: [UpstreamTarget.Origin: IdleList] = [:]
    private var isShutDown = false
    private var sweeper: RepeatedTask?
    private let deadlines: ExchangeDeadlines

    init(eventLoop: any EventLoop, connectTimeout: TimeAmount, idleLimit: TimeAmount, deadlineTolerance: TimeAmount) {
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        self.idleLimit = idleLimit
        deadlines = ExchangeDeadlines(eventLoop: eventLoop, tolerance: deadlineTolerance)
    }

    /// Sends `GET target` on an idle connection, or on a new one, and tells `waiter` the whole response.
    func execute(_ target: UpstreamTarget, request: ByteBuffer, deadline: NIODeadline, waiter: ExchangeWaiter) {
        guard !isShutDown else {
            waiter.fail(.shutdown("the gateway is shutting down"))
            return
        }
        let list = idleList(target.origin)
        if let handler = checkout(list) {
            send(request, on: handler, deadline: deadline, waiter: waiter)
            return
        }
        connect(target.origin, deadline: deadline).assumeIsolated().whenComplete { result in
            do {
                let channel = try result.get()
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamExchangeHandler.self)
                // Strong on purpose: the pool lives as long as the process, and a weak reference would slow every retain of it.
                handler.onReusable = { handler in self.checkin(handler, to: list) }
                self.send(request, on: handler, deadline: deadline, waiter: waiter)
            } catch {
                let failure = Self.classify(error)
                // Idle connections to the other upstream hold the descriptors this call lacks: with every request
                // in flight holding one client socket, a burst can leave the pool full of one origin's idle sockets
                // while the calls to the other origin cannot open any, so every request would fail until they aged out.
                if failure.isOutOfSockets { self.closeIdleConnections() }
                waiter.fail(failure)
            }
        }
    }

    /// Starts the periodic sweep of idle connections; called on the pool's event loop once it exists.
    func startSweeping() {
        let pool = NIOLoopBound(self, eventLoop: eventLoop)
        sweeper = eventLoop.scheduleRepeatedTask(initialDelay: idleLimit, delay: idleLimit) { _ in pool.value.sweep() }
    }

    /// Closes every idle connection and refuses new requests; busy connections close when their exchange ends.
    func shutdown() {
        isShutDown = true
        sweeper?.cancel()
        sweeper = nil
        closeIdleConnections()
        idle = [:]
    }

    /// Closes the idle connections of every origin; the lists stay, so calls go on opening new ones.
    private func closeIdleConnections() {
        for list in idle.values {
            for connection in list.connections { connection.handler.close() }
            list.connections.removeAll()
        }
    }

    private func send(
        _ request: ByteBuffer,
        on handler: UpstreamExchangeHandler,
        deadline: NIODeadline,
        waiter: ExchangeWaiter
    ) {
        if let exchange = handler.send(request, waiter: waiter) {
            deadlines.add(deadline, handler: handler, exchange: exchange)
        }
    }

    /// The idle list of `origin`, created on its first call.
    private func idleList(_ origin: UpstreamTarget.Origin) -> IdleList {
        if let list = idle[origin] { return list }
        let list = IdleList()
        idle[origin] = list
        return list
    }

    private func checkout(_ list: IdleList) -> UpstreamExchangeHandler? {
        let oldest = NIODeadline.now() - idleLimit
        while let connection = list.connections.popLast() {
            if Self.isReusable(connection, idleSince: oldest) { return connection.handler }
            connection.handler.close()
        }
        return nil
    }

    private func sweep() {
        let oldest = NIODeadline.now() - idleLimit
        for list in idle.values {
            list.connections.removeAll { connection in
                let stale = !Self.isReusable(connection, idleSince: oldest)
                if stale { connection.handler.close() }
                return stale
            }
        }
    }

    /// Still open and idle for less than `idleLimit`: the one test `checkout` and `sweep` both apply.
    private static func isReusable(_ connection: IdleConnection, idleSince oldest: NIODeadline) -> Bool {
        connection.handler.isReady && connection.since > oldest
    }

    private func checkin(_ handler: UpstreamExchangeHandler, to list: IdleList) {
        guard !isShutDown else {
            handler.close()
            return
        }
        list.connections.append((handler, .now()))
    }

    private func connect(_ origin: UpstreamTarget.Origin, deadline: NIODeadline) -> EventLoopFuture<any Channel> {
        let remaining = deadline - .now()
        // ClientBootstrap sets TCP_NODELAY itself (at IPPROTO_TCP); `.socketOption(.tcp_nodelay)` would set
        // option 1 at SOL_SOCKET, SO_DEBUG, which an unprivileged container refuses.
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(min(connectTimeout, max(remaining, .milliseconds(1))))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamExchangeHandler())
                }
            }
        // An IP literal needs no resolver; a name goes through NIO's, which resolves off the event loop.
        if let address = try? SocketAddress(ipAddress: origin.host, port: origin.port) {
            return bootstrap.connect(to: address)
        }
        return bootstrap.connect(host: origin.host, port: origin.port)
    }

    /// Maps NIO's connect errors onto the causes the gateway distinguishes.
    static func classify(_ error: any Error) -> UpstreamError {
        if let error = error as? UpstreamError { return error }
        if let error = error as? ChannelError, case .connectTimeout = error { return .timeout("\(error)") }
        return HTTPClientUpstream.classify(error)
    }
}
