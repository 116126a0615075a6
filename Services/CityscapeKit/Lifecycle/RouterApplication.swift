public import Hummingbird
public import Logging
public import NIOCore
public import ServiceLifecycle

/// A Cityscape service as Hummingbird sees an application: a responder (the router) plus the services that
/// live as long as it. Run as a `Service`, it serves through `RouterServer`, not Hummingbird's own server.
///
/// It stays an `ApplicationProtocol` so tests keep HummingbirdTesting: `.router` calls the responder
/// directly; `.live` runs the application the framework's way, through `server` (Hummingbird's plain
/// HTTP/1.1 server, without our connection guard), so a test of connection behaviour starts the binary or
/// this type's `run()` instead.
public struct RouterApplication<Responder: HTTPResponder>: ApplicationProtocol
where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    public let responder: Responder
    public let services: [any Service]
    public let logger: Logger
    let listener: ListenerConfiguration

    /// - Parameters:
    ///   - server: where to listen and how to treat client connections.
    ///   - services: run alongside the server, started before it and shut down after it has drained.
    public init(responder: Responder, server: ListenerConfiguration, services: [any Service], logger: Logger) {
        self.responder = responder
        self.listener = server
        self.services = services
        self.logger = logger
    }

    public var configuration: ApplicationConfiguration {
        ApplicationConfiguration(address: .hostname(listener.host, port: listener.port), serverName: nil, backlog: listener.backlog)
    }

    public func onServerRunning(_ channel: any Channel) async {
        logger.info("listening on \(ServiceApplication.listeningURL(channel.localAddress, fallbackHost: listener.host))")
    }

    /// Serves until graceful shutdown (then drains) or cancellation. The extra services shut down after the
    /// server, in reverse order, as in Hummingbird's `Application`.
    public func run() async throws {
        let httpServer = RouterServer(responder: responder, configuration: listener, logger: logger) { channel in
            await onServerRunning(channel)
        }
        let group = ServiceGroup(configuration: .init(services: services + [httpServer], logger: logger))
        try await group.run()
    }
}
