/// The connection-scoped headers of one message that a proxy must not forward (RFC 9110 §7.6.1), in
/// either direction: a fixed list, plus the names the message's `Connection` header lists (which
/// neither nginx nor HAProxy strips).
struct HopByHopHeaders {
    private let wire: WireHead
    private var named: [Range<Int>] = []

    init(of wire: WireHead) {
        self.wire = wire
        wire.forEachListElement("connection") { token in
            if !wire.matches(token, "close") && !wire.matches(token, "keep-alive") { named.append(token) }
        }
    }

    /// Whether the field called `name` (a range of the same head) is dropped at this hop.
    func drops(_ name: Range<Int>) -> Bool {
        Self.isFixed(name, in: wire) || named.contains { wire.sameBytes($0, name) }
    }

    /// Always hop-by-hop. `Transfer-Encoding` is re-done by each hop; `Proxy-Authorization` is meant for us.
    static func isFixed(_ name: Range<Int>, in wire: WireHead) -> Bool {
        switch name.count {
        case 2: wire.matches(name, "te")
        case 7: wire.matches(name, "trailer") || wire.matches(name, "upgrade")
        case 10: wire.matches(name, "connection") || wire.matches(name, "keep-alive")
        case 16: wire.matches(name, "proxy-connection")
        case 17: wire.matches(name, "transfer-encoding")
        case 18: wire.matches(name, "proxy-authenticate")
        case 19: wire.matches(name, "proxy-authorization")
        default: false
        }
    }
}
