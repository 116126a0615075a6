public import Hummingbird
public import Logging
public import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle

/// The HTTP/1.1 server of every Cityscape service: serves a Hummingbird responder (the router) on NIO's
/// event loops, with `ClientConnectionHandler` guarding each connection.
///
/// NIO accepts connections itself, as fast as the kernel hands them over; each connection is a plain
/// channel pipeline, and only a request's trip through the router runs as a Swift task
/// (`RouterRequestHandler`). On graceful shutdown it stops accepting, lets every connection finish the
/// request it is serving (`ClientConnectionHandler` closes keep-alive connections politely), and returns
/// once all are closed. Cancellation (the drain's end) cancels the requests still running, which answer 503
/// `shutting_down`, and returns once those answers are written, or after `answerGrace`.
public struct RouterServer<Responder: HTTPResponder>: Service
where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    let responder: Responder
    let configuration: ListenerConfiguration
    let logger: Logger
    let onListening: @Sendable (any Channel) async -> Void

    /// - Parameter onListening: called once the socket is bound (it learns the port when 0 was asked for).
    public init(
        responder: Responder,
        configuration: ListenerConfiguration,
        logger: Logger,
        onListening: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) {
        self.responder = responder
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let quiescing = ServerQuiescingHelper(group: group)
        let connectionGuard = ConnectionGuard(policy: configuration.connections)
        let cancellation = RequestCancellation()
        let responder = self.responder
        let logger = self.logger
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(clamping: configuration.backlog))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // Connections taken from the accept queue per wake-up (NIO's default is 4): a burst of thousands of
            // clients then empties the queue before it overflows, instead of waiting behind the loop's other work.
            .serverChannelOption(ChannelOptions.maxMessagesPerRead, value: Self.acceptsPerWakeup)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            // A client that shuts its write side is seen (`ClientConnectionHandler` takes it as gone).
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel, responder: responder, connectionGuard: connectionGuard, cancellation: cancellation, logger: logger)
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        await onListening(listener)

        let drained = listener.eventLoop.makePromise(of: Void.self)
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await drained.futureResult.get()
            } onGracefulShutdown: {
                quiescing.initiateShutdown(promise: drained)
            }
        } onCancel: {
            // The drain ran out (or the group is cancelled): the requests still running are cancelled and answer
            // 503 `shutting_down`. Their connections close after those answers (they are quiescing), which ends
            // the drain; `answerGrace` bounds the wait, and the server returns normally, like Hummingbird's, so
            // the process exits 0.
            listener.close(promise: nil)
            cancellation.cancelAll()
            listener.eventLoop.scheduleTask(in: Self.answerGrace.timeAmount) { drained.succeed() }
        }
    }

    static var acceptsPerWakeup: UInt { 64 }

    /// How long the answers of requests cancelled at the end of the drain have to be written before the server
    /// returns: longer than `RouterRequestHandler.cutOffWait`, so a route that ignores cancellation is answered
    /// too, and short against a deployment's stop timeout.
    static var answerGrace: Duration { .seconds(1) }

    /// One client connection: NIO's HTTP/1 codec with pipelining assistance (so pipelined requests are answered
    /// in order, one at a time), the connection guard and the handler that runs the router (which converts
    /// between NIO's HTTP/1 parts and the HTTP types itself).
    static func configure(
        _ channel: any Channel,
        responder: Responder,
        connectionGuard: ConnectionGuard,
        cancellation: RequestCancellation,
        logger: Logger
    ) throws {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.configureHTTPServerPipeline(
            withPipeliningAssistance: true,
            withErrorHandling: false,  // parser errors are answered by `RouterRequestHandler`, in JSON
            withOutboundHeaderValidation: false  // HTTPTypes validates header fields already
        )
        try connectionGuard.install(on: channel, logger: logger)
        try pipeline.addHandler(RouterRequestHandler(responder: responder, logger: logger, cancellation: cancellation))
    }
}

/// Where a `RouterServer` listens and how it treats client connections.
public struct ListenerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The accept queue's length (capped by the kernel at `net.core.somaxconn`).
    public var backlog: Int
    public var connections: ConnectionPolicy

    public init(host: String, port: Int, backlog: Int, connections: ConnectionPolicy) {
        self.host = host
        self.port = port
        self.backlog = backlog
        self.connections = connections
    }
}
