import NIOCore
import NIOHTTP1

/// A client's request head, parsed in place, with what the proxy decides from it up front.
struct ClientRequestHead {
    let wire: WireHead
    let method: HTTPMethod
    let version: HTTPVersion
    /// Whether the client keeps the connection after this exchange (RFC 9112 §9.3).
    let keepAlive: Bool
    let hopByHop: HopByHopHeaders

    init(_ wire: WireHead) {
        method = Self.method(wire)
        version = wire.isHTTP10(wire.startLine.2) ? .http1_0 : .http1_1
        let options = wire.connectionOptions()
        keepAlive = !options.close && (version == .http1_1 || options.keepAlive)
        hopByHop = HopByHopHeaders(named: options.named)
        // Last, so the head moves in rather than being copied (a retain of each of its buffers).
        self.wire = wire
    }

    var target: Range<Int> { wire.startLine.1 }

    /// The request target as text, for logs.
    var uri: String { wire.string(target) }

    /// The common methods without building a string; others (rare) keep their name.
    private static func method(_ wire: WireHead) -> HTTPMethod {
        let range = wire.startLine.0
        // Methods are case-sensitive (RFC 9110 §9.1): `get` is not `GET`.
        let known: HTTPMethod? =
            switch range.count {
            case 3: wire.exactly(range, "GET") ? .GET : wire.exactly(range, "PUT") ? .PUT : nil
            case 4: wire.exactly(range, "HEAD") ? .HEAD : wire.exactly(range, "POST") ? .POST : nil
            case 5: wire.exactly(range, "PATCH") ? .PATCH : wire.exactly(range, "TRACE") ? .TRACE : nil
            case 6: wire.exactly(range, "DELETE") ? .DELETE : nil
            case 7: wire.exactly(range, "OPTIONS") ? .OPTIONS : wire.exactly(range, "CONNECT") ? .CONNECT : nil
            default: nil
            }
        return known ?? HTTPMethod(rawValue: wire.string(range))
    }
}
