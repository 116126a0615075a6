import Hummingbird
import NIOCore

/// The request context of the proxy listener: Hummingbird's core storage, the peer address for
/// `X-Forwarded-For`, and the request id.
struct ProxyRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client's socket address (nil for non-IP transports).
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
