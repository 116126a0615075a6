public import HummingbirdCore
public import Logging
public import NIOCore

/// Hummingbird's HTTP/1.1 child channel plus `ClientConnectionHandler`, which adds what a server facing
/// untrusted clients needs and `HTTP1Channel` lacks: a connection limit answered with 503, header and
/// body read timeouts, JSON bodies for malformed requests, and a shutdown that never closes a
/// keep-alive connection under a request the client is already sending.
///
/// Requests themselves are served exactly as by `HTTP1Channel`, which this wraps.
public struct GuardedHTTP1Channel: ServerChildChannel {
    public typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let connectionGuard: ConnectionGuard

    public init(responder: @escaping HTTPChannelHandler.Responder, configuration: HTTP1Channel.Configuration, policy: ConnectionPolicy) {
        self.base = HTTP1Channel(responder: responder, configuration: configuration)
        self.connectionGuard = ConnectionGuard(policy: policy)
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let connectionGuard = self.connectionGuard
        // Between the HTTP/1 decoder and Hummingbird's HTTPTypes codec.
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try connectionGuard.install(on: channel)
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with `GuardedHTTP1Channel`'s connection limits, timeouts and graceful close.
    public static func guardedHTTP1(configuration: HTTP1Channel.Configuration, policy: ConnectionPolicy) -> HTTPServerBuilder {
        .init { responder in GuardedHTTP1Channel(responder: responder, configuration: configuration, policy: policy) }
    }
}
