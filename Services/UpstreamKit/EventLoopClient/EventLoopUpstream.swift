import CityscapeKit
import NIOCore
import NIOPosix
public import ServiceLifecycle

/// The async transport's plain-HTTP path: an HTTP/1.1 client on SwiftNIO's channel pipeline, running on the
/// event loops Hummingbird serves on, with one keep-alive pool per loop.
///
/// A call made on an event loop (the gateway runs Swift concurrency on NIO's loops) uses that loop's pool,
/// so the upstream connection, its response and the resumed handler share one thread: no lock and no hop
/// between thread pools, which is where AsyncHTTPClient's shared pool spends its time under thousands of
/// connections. `https://` URLs go to ``HTTPClientUpstream`` (AsyncHTTPClient with TLS), which this type owns.
public final class EventLoopUpstream: UpstreamClient, Service {
    private let group: any EventLoopGroup
    /// One pool per loop of `group`, keyed by the loop's identity; each is created and used on its own loop.
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<LoopConnectionPool?>]
    private let settings: PoolSettings
    private static let allocator = ByteBufferAllocator()
    private let tlsClient: HTTPClientUpstream

    /// What every loop's pool is created with.
    private struct PoolSettings: Sendable {
        var connectTimeout: TimeAmount
        /// Idle connections older than this are closed instead of reused: the upstreams (Hummingbird) close theirs
        /// after a minute, and a request must never be written on a connection the server is closing.
        var idleLimit: TimeAmount
        /// How late a timeout may end, so that deadlines close together share one timer (``ExchangeDeadlines``).
        var deadlineTolerance: TimeAmount
    }

    public convenience init(configuration: HTTPClientUpstream.Configuration) {
        self.init(configuration: configuration, idleLimit: .seconds(30))
    }

    init(configuration: HTTPClientUpstream.Configuration, idleLimit: TimeAmount, deadlineTolerance: TimeAmount = .milliseconds(5)) {
        group = MultiThreadedEventLoopGroup.singleton
        var pools: [ObjectIdentifier: NIOLoopBoundBox<LoopConnectionPool?>] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = .makeEmptyBox(valueType: LoopConnectionPool.self, eventLoop: loop)
        }
        self.pools = pools
        settings = PoolSettings(connectTimeout: configuration.connectTimeout.timeAmount, idleLimit: idleLimit, deadlineTolerance: deadlineTolerance)
        tlsClient = HTTPClientUpstream(configuration: configuration)
    }

    public func get(_ url: String, headers: [(name: String, value: String)], timeout: Duration) async throws(UpstreamError) -> UpstreamResponse {
        guard let target = UpstreamTarget(url) else {
            return try await tlsClient.get(url, headers: headers, timeout: timeout)
        }
        let request = try UpstreamRequest.encode(path: target.path, host: target.hostHeader, headers: headers, allocator: Self.allocator)
        return try await exchange(target, request: request, timeout: timeout)
    }

    /// Sends the base parsed at start-up with `path` appended, so the call parses no URL and builds no target.
    public func get(_ endpoint: UpstreamEndpoint, path: String, headers: [(name: String, value: String)], timeout: Duration)
        async throws(UpstreamError)
        -> UpstreamResponse
    {
        guard let base = endpoint.plainBase, let prefix = endpoint.requestPrefix(for: path) else {
            return try await tlsClient.get(endpoint.url(path), headers: headers, timeout: timeout)
        }
        let request = try UpstreamRequest.encode(
            path: prefix,
            appending: path,
            host: base.hostHeader,
            headers: headers,
            allocator: Self.allocator
        )
        return try await exchange(base, request: request, timeout: timeout)
    }

    /// Runs one encoded request on the pool of the calling loop; only `target`'s origin is used.
    private func exchange(_ target: UpstreamTarget, request: ByteBuffer, timeout: Duration) async throws(UpstreamError) -> UpstreamResponse {
        let deadline = NIODeadline.now() + timeout.timeAmount
        let box = pool(for: MultiThreadedEventLoopGroup.currentEventLoop)
        let settings = settings
        // The exchange handler resumes this continuation itself, on the loop, when the response is complete.
        let result = await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<UpstreamResponse, UpstreamError>, Never>) in
            if box.eventLoop.inEventLoop {
                Self.pool(in: box, settings).execute(target, request: request, deadline: deadline, waiter: .task(continuation))
            } else {
                box.eventLoop.execute {
                    Self.pool(in: box, settings).execute(target, request: request, deadline: deadline, waiter: .task(continuation))
                }
            }
        }
        return try result.get()
    }

    /// Waits for graceful shutdown (the server has drained by then), then closes every connection.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Closes every idle connection, refuses further calls and shuts the TLS client down.
    public func shutdown() async throws {
        var closed: [EventLoopFuture<Void>] = []
        for box in pools.values {
            closed.append(box.eventLoop.submit { box.value?.shutdown() })
        }
        for future in closed { try? await future.get() }
        try await tlsClient.shutdown()
    }

    /// The pool of `loop` when it is one of ours (the caller runs on it), else any loop's.
    private func pool(for loop: (any EventLoop)?) -> NIOLoopBoundBox<LoopConnectionPool?> {
        if let loop, let box = pools[ObjectIdentifier(loop)] { return box }
        return pools[ObjectIdentifier(group.next())]!
    }

    private static func pool(in box: NIOLoopBoundBox<LoopConnectionPool?>, _ settings: PoolSettings) -> LoopConnectionPool {
        if let pool = box.value { return pool }
        let pool = LoopConnectionPool(
            eventLoop: box.eventLoop,
            connectTimeout: settings.connectTimeout,
            idleLimit: settings.idleLimit,
            deadlineTolerance: settings.deadlineTolerance
        )
        pool.startSweeping()
        box.value = pool
        return pool
    }
}
