import NIOCore
import NIOHTTP1
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
    private var idle: [UpstreamTarget.Origin: [IdleConnection]] = [:]
    private var isShutDown = false
    private var sweeper: RepeatedTask?
    private let deadlines: ExchangeDeadlines

    init(eventLoop: any EventLoop, connectTimeout: TimeAmount, idleLimit: TimeAmount) {
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        self.idleLimit = idleLimit
        deadlines = ExchangeDeadlines(eventLoop: eventLoop)
    }

    /// Sends `GET target` on an idle connection, or on a new one, and completes with the whole response.
    func execute(_ target: UpstreamTarget, headers: HTTPHeaders, deadline: NIODeadline) -> EventLoopFuture<UpstreamResponse> {
        let promise = eventLoop.makePromise(of: UpstreamResponse.self)
        guard !isShutDown else {
            promise.fail(UpstreamError.shutdown("the gateway is shutting down"))
            return promise.futureResult
        }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.path, headers: headers)
        if let handler = checkout(target.origin) {
            send(head, on: handler, deadline: deadline, promise: promise)
            return promise.futureResult
        }
        let origin = target.origin
        connect(origin, deadline: deadline).assumeIsolated().whenComplete { result in
            do {
                let channel = try result.get()
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamExchangeHandler.self)
                // Strong on purpose: the pool lives as long as the process, and a weak reference would slow every retain of it.
                handler.onReusable = { handler in self.checkin(handler, origin: origin) }
                self.send(head, on: handler, deadline: deadline, promise: promise)
            } catch {
                promise.fail(Self.classify(error))
            }
        }
        return promise.futureResult
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
        for (_, connections) in idle { for connection in connections { connection.handler.close() } }
        idle = [:]
    }

    private func send(
        _ head: HTTPRequestHead,
        on handler: UpstreamExchangeHandler,
        deadline: NIODeadline,
        promise: EventLoopPromise<UpstreamResponse>
    ) {
        if let exchange = handler.send(head, promise: promise) {
            deadlines.add(deadline, handler: handler, exchange: exchange)
        }
    }

    private func checkout(_ origin: UpstreamTarget.Origin) -> UpstreamExchangeHandler? {
        let oldest = NIODeadline.now() - idleLimit
        // Popped in place through the dictionary's subscript: a local copy would copy the whole array.
        while let connection = idle[origin]?.popLast() {
            if Self.isReusable(connection, idleSince: oldest) { return connection.handler }
            connection.handler.close()
        }
        return nil
    }

    private func sweep() {
        let oldest = NIODeadline.now() - idleLimit
        // The keys are copied first, so each array below is changed in place rather than copied with the dictionary.
        for origin in Array(idle.keys) {
            idle[origin]?.removeAll { connection in
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

    private func checkin(_ handler: UpstreamExchangeHandler, origin: UpstreamTarget.Origin) {
        guard !isShutDown else {
            handler.close()
            return
        }
        idle[origin, default: []].append((handler, .now()))
    }

    private func connect(_ origin: UpstreamTarget.Origin, deadline: NIODeadline) -> EventLoopFuture<any Channel> {
        let remaining = deadline - .now()
        // ClientBootstrap sets TCP_NODELAY itself (at IPPROTO_TCP); `.socketOption(.tcp_nodelay)` would set
        // option 1 at SOL_SOCKET, SO_DEBUG, which an unprivileged container refuses.
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(min(connectTimeout, max(remaining, .milliseconds(1))))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
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
