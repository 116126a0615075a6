import AsyncHTTPClient
import CityscapeKit
import EpollKit
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// Everything the proxy process runs, built once; `run()` is what `main` calls.
struct ProxyApplication {
    let configuration: ProxyConfiguration
    let pool: BackendPool
    let client: HTTPClient
    /// The proxy listener's event loops, shut down after everything else (`EpollLoopService`).
    let loops: EpollLoopGroup
    /// How backend host names are resolved: off the loops, on NIO's thread pool.
    let resolver: OffLoopResolver
    let metrics: ServiceMetrics
    let logger: Logger
    /// Called with the bound proxy and admin addresses (tests use it to learn port-0 ports).
    var onListening: @Sendable (_ role: String, _ url: String) async -> Void = { _, _ in }

    /// The composition root: the only place concrete dependencies are made. `loopCount` epoll loops are
    /// started here (one per core unless a test asks otherwise) and stopped when the service group ends.
    init(
        configuration: ProxyConfiguration,
        logger: Logger,
        metrics: ServiceMetrics = ServiceMetrics(),
        loopCount: Int = System.coreCount,
        loopName: String = ProxyIdentity.name,
        resolver: OffLoopResolver = OffLoopResolver()
    ) throws {
        self.configuration = configuration
        self.loops = try EpollLoopGroup(count: loopCount, name: loopName)
        self.resolver = resolver
        self.logger = logger
        self.metrics = metrics
        self.pool = BackendPool(
            backends: configuration.backends,
            balancer: Balancer(configuration.balance),
            slowStart: configuration.slowStart,
            outliers: configuration.outlierEjection,
            policy: configuration.health,
            logger: logger
        )
        self.client = HTTPClient(
            eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton),
            configuration: Self.clientConfiguration(configuration)
        )
    }

    /// The client of the active health checks (not of forwarded requests, see `ProxyListener`): explicit
    /// timeouts, no redirects, and no connect retries inside the client, so a refused connect fails the
    /// check at once (AHC otherwise retries with backoff until the connect timeout).
    static func clientConfiguration(_ configuration: ProxyConfiguration) -> HTTPClient.Configuration {
        var client = HTTPClient.Configuration()
        client.redirectConfiguration = .disallow
        client.decompression = .disabled
        client.httpVersion = .http1Only
        client.timeout = .init(
            connect: configuration.connectTimeout.timeAmount,
            read: configuration.backendTimeout.timeAmount
        )
        client.connectionPool.retryConnectionEstablishment = false
        return client
    }

    /// The proxy listener.
    func proxyListener() -> ProxyListener {
        let metrics = ProxyMetrics(factory: self.metrics.factory)
        var connections = configuration.connections
        connections.onReject = { code in metrics.error(code) }
        connections.idleTimeout = configuration.idleTimeout
        let limits = configuration.limits
        let onListening = self.onListening
        let logger = self.logger
        let backends = configuration.backends
        let balance = configuration.balance
        return ProxyListener(
            host: configuration.server.host,
            port: configuration.server.port,
            group: loops,
            resolver: resolver,
            forwarder: Forwarder(
                pool: pool,
                guardrails: RequestGuard(limits: limits),
                retryPolicy: RetryPolicy(maxRetries: configuration.retries),
                backendTimeout: configuration.backendTimeout,
                metrics: metrics,
                logger: logger
            ),
            connectionGuard: ConnectionGuard(policy: connections),
            upstreamSettings: .init(
                connectTimeout: configuration.connectTimeout.timeAmount,
                backendTimeout: configuration.backendTimeout.timeAmount,
                maxIdlePerBackend: configuration.poolSize
            ),
            onListening: { url in
                logger.info("listening on \(url)", metadata: ["backends": "\(backends.map(\.description))", "balance": "\(balance.rawValue)"])
                await onListening("proxy", url)
            }
        )
    }

    /// The admin listener: `/status`, `/metrics`, `/healthz`. Its log line says "admin at", not
    /// "listening on", so scripts that wait for the proxy's line never pick the admin port.
    func adminApplication(address: BackendAddress) -> some ApplicationProtocol {
        let router = Router(context: CityscapeRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: BackendMetricsMiddleware(metrics: BackendMetrics(factory: metrics.factory), pool: pool))
        OperationalRoutes(service: ProxyIdentity.name, metrics: metrics).addRoutes(to: router)
        AdminRoutes(pool: pool).addRoutes(to: router)
        router.rejectOtherMethods()
        let onListening = self.onListening
        let logger = self.logger
        return Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
            onServerRunning: { channel in
                let url = ServiceApplication.listeningURL(channel.localAddress, fallbackHost: address.host)
                logger.info("admin at \(url)")
                await onListening("admin", url)
            },
            logger: logger
        )
    }

    /// All services, in start order; a service group stops them in reverse, so the proxy listener
    /// drains first and the upstream client closes last.
    func services() -> [any Service] {
        var services: [any Service] = [EpollLoopService(group: loops), HTTPClientService(client: client)]
        let checker = HealthChecker(
            pool: pool,
            client: client,
            policy: configuration.health,
            timeout: min(HealthChecker.maximumTimeout, configuration.backendTimeout)
        )
        services.append(checker)
        let path = configuration.backendsFile
        let listed = Set(path.map { ((try? WeightedBackend.list(fromFile: $0)) ?? []).map(\.address) } ?? [])
        let fixed = configuration.backends.filter { !listed.contains($0.address) }
        services.append(BackendsReloader(path: path, fixed: fixed, pool: pool, logger: logger))
        if let admin = configuration.admin { services.append(adminApplication(address: admin)) }
        services.append(proxyListener())
        return services
    }

    /// Runs until SIGTERM/SIGINT, then drains for at most `--drain-timeout`.
    func run(signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        try await serviceGroup(signals: signals).run()
    }

    /// Everything the process runs, as one group that drains for at most `--drain-timeout` on a signal or
    /// on `triggerGracefulShutdown()` (what tests call: cancelling a server instead can trap in NIO,
    /// apple/swift-nio#3481).
    func serviceGroup(signals: [UnixSignal] = [.sigterm, .sigint]) -> ServiceGroup {
        var group = ServiceGroupConfiguration(
            services: services().map { .init(service: $0) },
            gracefulShutdownSignals: signals,
            logger: logger
        )
        group.maximumGracefulShutdownDuration = configuration.server.drainTimeout
        return ServiceGroup(configuration: group)
    }
}
