/// The connection-scoped headers of one message that a proxy must not forward (RFC 9110 §7.6.1), in
/// either direction: a fixed list (`FieldName.isHopByHop`), plus the names the message's `Connection`
/// header lists (which neither nginx nor HAProxy strips), found by `WireHead.connectionOptions()`.
struct HopByHopHeaders {
    let named: [Range<Int>]

    /// Whether `field` of `wire` (the head `named` comes from) is dropped at this hop.
    func drops(_ field: WireField, in wire: WireHead) -> Bool {
        field.known.isHopByHop || (!named.isEmpty && named.contains { wire.sameBytes($0, field.name) })
    }
}
