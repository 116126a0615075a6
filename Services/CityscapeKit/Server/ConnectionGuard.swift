public import NIOCore
import NIOHTTP1

/// Installs `ClientConnectionHandler` and its byte observer on one client connection, and counts the
/// listener's open connections for `ConnectionPolicy.maxConnections`.
///
/// One value per listener, shared by all its event loops. Used by `GuardedHTTP1Channel` (the services)
/// and by the proxy's own NIO pipeline, so both guard their clients the same way.
public struct ConnectionGuard: Sendable {
    public let policy: ConnectionPolicy
    let counter = ConnectionCounter()

    public init(policy: ConnectionPolicy) {
        self.policy = policy
    }

    /// Adds the guard to `channel`, whose pipeline must already hold an `HTTPRequestDecoder`: the
    /// handler goes right after it, the observer at the head. Call on the channel's event loop.
    public func install(on channel: any Channel) throws {
        let open = counter.opened()
        let counter = self.counter
        channel.closeFuture.whenComplete { _ in counter.closed() }
        let pipeline = channel.pipeline.syncOperations
        let handler = ClientConnectionHandler(policy: policy, overCapacity: open > policy.maxConnections)
        // After the decoder: it needs the request's HTTP version (for the Host rule) and must see quiesce
        // events before the application's handlers, which would close idle connections at once.
        let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        try pipeline.addHandler(handler, position: .after(decoder))
        try pipeline.addHandler(ClientBytesObserver(connection: handler), position: .first)
    }
}
