public import Hummingbird
public import Logging
public import NIOCore
public import ServiceLifecycle
import UnixSignals

/// Builds the router and the application shape shared by every Cityscape service.
public enum ServiceApplication {
    /// A router with the standard middleware chain and the operational routes.
    ///
    /// The standard chain runs as one `ServiceMiddleware`: the request id is set first so every later line
    /// carries it; the access log and metrics see the final status of failed requests too.
    /// `addAPIRoutes` receives a group that alone carries the simulated latency. `openAPIDocument` is
    /// served at `/openapi.json` when given (every service passes its embedded one). Every other method on
    /// a path of these routes answers 405 (`rejectOtherMethods`), so routes are added here, not afterwards.
    public static func makeRouter(
        service: String,
        configuration: ServerConfiguration,
        metrics: ServiceMetrics,
        healthDetails: @escaping @autoclosure @Sendable () -> [String: Int] = [:],
        openAPIDocument: [UInt8]? = nil,
        addAPIRoutes: (RouterGroup<CityscapeRequestContext>) -> Void
    ) -> Router<CityscapeRequestContext> {
        let router = Router(context: CityscapeRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ServiceMiddleware(metricsFactory: metrics.factory))
        OperationalRoutes(service: service, metrics: metrics, details: healthDetails()).addRoutes(to: router)
        if let openAPIDocument { OpenAPIRoute(document: openAPIDocument).addRoutes(to: router) }
        let api = router.group()
        // Without a latency the middleware would only pass requests on: not installed, so no request pays for the layer.
        if configuration.latency > .zero { api.add(middleware: SimulatedLatencyMiddleware(latency: configuration.latency)) }
        addAPIRoutes(api)
        router.rejectOtherMethods()
        return router
    }

    /// The application: the router served by `RouterServer` (HTTP/1.1, the client-connection guards of
    /// `ClientConnectionHandler`: a connection limit, header/body timeouts, a one-minute idle timeout, JSON
    /// errors for malformed requests, a graceful close of keep-alive connections on shutdown), `services`
    /// run alongside, and the `listening on` line.
    public static func make(
        router: Router<CityscapeRequestContext>,
        configuration: ServerConfiguration,
        services: [any Service] = [],
        logger: Logger
    ) -> RouterApplication<RouterResponder<CityscapeRequestContext>> {
        RouterApplication(
            responder: router.buildResponder(),
            server: .init(
                host: configuration.host,
                port: configuration.port,
                backlog: listenBacklog,
                // Idle keep-alive connections are closed after a minute so abandoned clients cannot pin sockets.
                connections: ConnectionPolicy(maxConnections: configuration.maxConnections, idleTimeout: .seconds(60))
            ),
            services: services,
            logger: logger
        )
    }

    /// The accept queue's length. A queue of 256 (Hummingbird's default) overflows when thousands of clients connect at
    /// once (a load test's start, a proxy's reconnect storm): the kernel then drops their SYNs and each waits
    /// a one-second retransmit, which a client sees as a slow or timed-out request. The kernel caps this at
    /// `net.core.somaxconn`.
    static let listenBacklog = 4096

    /// Runs `application` until SIGTERM or SIGINT, then lets in-flight requests finish for at most
    /// `configuration.drainTimeout` (a plain `runService()` would wait for them without limit).
    ///
    /// Only the service binaries call this, so it is also where a process moves Swift concurrency onto
    /// NIO's event loops (``EventLoopExecutor``) when `onEventLoops` is true; the installation is
    /// process-wide and happens once. The blocking gateway passes false: its handlers wait on libcurl threads,
    /// which must not hold an event loop.
    public static func run(
        _ application: some ApplicationProtocol,
        configuration: ServerConfiguration,
        onEventLoops: Bool = true,
        logger: Logger
    ) async throws {
        if onEventLoops && !EventLoopExecutor.install() {
            logger.warning("NIO's event loops could not become the global executor; tasks run on Swift's default pool")
        }
        var group = ServiceGroupConfiguration(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.drainTimeout
        try await ServiceGroup(configuration: group).run()
    }

    /// `http://HOST:PORT` of the bound socket; the port is the real one when 0 was asked for.
    public static func listeningURL(_ address: SocketAddress?, fallbackHost: String) -> String {
        let host = address?.ipAddress ?? fallbackHost
        let port = address?.port ?? 0
        return host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }
}
