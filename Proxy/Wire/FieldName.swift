/// The field names the proxy acts on, recognised once per field line while a head is parsed, so every
/// later decision (framing, hop-by-hop, forwarded headers) is a comparison of two bytes, not of names.
enum FieldName: UInt8 {
    case other
    case host
    case contentLength
    case transferEncoding
    case connection
    /// Hop-by-hop other than `Connection` and `Transfer-Encoding` (RFC 9110 §7.6.1): `Keep-Alive`,
    /// `Proxy-Connection`, `Proxy-Authorization`, `Proxy-Authenticate`, `TE`, `Trailer`, `Upgrade`.
    case otherHopByHop
    case xRequestID
    case xForwardedFor
    case xForwardedProto
    case xForwardedHost
    case xRealIP
    /// A name with an underscore (`Content_Length`): never one of the above, and dropped from requests,
    /// as nginx does by default, because CGI-style backends map `-` and `_` to the same variable and would
    /// read `Transfer_Encoding` as framing.
    case underscored

    /// Recognises the name at `range` of `head` (ASCII case-insensitive).
    static func of(_ head: UnsafeRawBufferPointer, _ range: Range<Int>) -> FieldName {
        func named(_ lowercased: StaticString) -> Bool {
            WireHead.equal(head, range, lowercased, ignoringCase: true)
        }
        switch range.count {
        case 2: return named("te") ? .otherHopByHop : .other
        case 4: return named("host") ? .host : .other
        case 7: return named("trailer") || named("upgrade") ? .otherHopByHop : .other
        case 9: return named("x-real-ip") ? .xRealIP : .other
        case 10:
            if named("connection") { return .connection }
            return named("keep-alive") ? .otherHopByHop : .other
        case 12: return named("x-request-id") ? .xRequestID : .other
        case 14: return named("content-length") ? .contentLength : .other
        case 15: return named("x-forwarded-for") ? .xForwardedFor : .other
        case 16:
            if named("x-forwarded-host") { return .xForwardedHost }
            return named("proxy-connection") ? .otherHopByHop : .other
        case 17:
            if named("transfer-encoding") { return .transferEncoding }
            return named("x-forwarded-proto") ? .xForwardedProto : .other
        case 18: return named("proxy-authenticate") ? .otherHopByHop : .other
        case 19: return named("proxy-authorization") ? .otherHopByHop : .other
        default: return .other
        }
    }

    /// Never forwarded as received, in either direction (the `Connection`-named ones aside).
    var isHopByHop: Bool {
        self == .connection || self == .transferEncoding || self == .otherHopByHop
    }
}
