/// The connection-scoped headers of one message that a proxy must not forward (RFC 9110 §7.6.1), in
/// either direction: a fixed list (`FieldName.isHopByHop`), plus the names the message's `Connection`
/// header lists (which neither nginx nor HAProxy strips).
struct HopByHopHeaders {
    private var named: [Range<Int>] = []

    init(of wire: WireHead) {
        wire.forEachListElement(.connection) { token in
            if !wire.matches(token, "close") && !wire.matches(token, "keep-alive") { named.append(token) }
        }
    }

    /// Whether `field` of `wire` (the head this was made from) is dropped at this hop.
    func drops(_ field: WireField, in wire: WireHead) -> Bool {
        field.known.isHopByHop || (!named.isEmpty && named.contains { wire.sameBytes($0, field.name) })
    }
}
