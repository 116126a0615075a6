public import Logging
public import NIOCore
import NIOHTTP1

/// Installs `ClientConnectionHandler` and its byte observer on one client connection, and counts the
/// listener's open connections for `ConnectionPolicy.maxConnections`.
///
/// One value per listener, shared by all its event loops. Used by `RouterServer` (the services);
/// the proxy, which parses HTTP itself, only counts its connections here (`admit`) and applies the same
/// `ConnectionPolicy` in its own handler.
public struct ConnectionGuard: Sendable {
    public let policy: ConnectionPolicy
    let counter = ConnectionCounter()

    public init(policy: ConnectionPolicy) {
        self.policy = policy
    }

    /// Adds the guard to `channel`, whose pipeline must already hold an `HTTPRequestDecoder`: the
    /// handler goes right after it, the observer at the head. Call on the channel's event loop.
    /// - Parameter logger: gets the access lines of the requests the guard rejects.
    public func install(on channel: any Channel, logger: Logger) throws {
        let overCapacity = admit(channel)
        let pipeline = channel.pipeline.syncOperations
        let handler = ClientConnectionHandler(policy: policy, overCapacity: overCapacity, logger: logger)
        // After the decoder: it needs the request's HTTP version (for the Host rule) and must see quiesce
        // events before the application's handlers, which would close idle connections at once.
        let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        try pipeline.addHandler(handler, position: .after(decoder))
        try pipeline.addHandler(ClientBytesObserver(connection: handler), position: .first)
    }

    /// Counts `channel` among the listener's open connections until it closes, and returns whether it is
    /// over `maxConnections` (its first request is then answered 503 and the connection closes). For a
    /// server that guards its connections itself (the proxy's byte-level handler).
    public func admit(_ channel: any Channel) -> Bool {
        let counter = self.counter
        channel.closeFuture.whenComplete { _ in counter.closed() }
        return admitConnection()
    }

    /// Counts a connection that is not a NIO channel (the proxy's own loop) among the open ones, and returns
    /// whether it is over `maxConnections`; `connectionClosed()` must follow when it closes.
    public func admitConnection() -> Bool {
        counter.opened() > policy.maxConnections
    }

    public func connectionClosed() {
        counter.closed()
    }
}
