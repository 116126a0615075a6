/// Where a plain `http://` URL points: the connection it needs and the request it sends.
///
/// Only what the event-loop client handles is accepted; anything else (`https://`, user info) is nil,
/// and the caller hands such a URL to AsyncHTTPClient.
struct UpstreamTarget: Sendable, Equatable {
    /// The host and port a connection goes to; the key of the keep-alive pool.
    struct Origin: Hashable, Sendable {
        var host: String
        var port: Int
    }

    var origin: Origin
    /// Path and query as sent on the request line (`/` when the URL has none).
    var path: String
    /// The `Host` header: the URL's authority as written.
    var hostHeader: String

    /// Parsed on the UTF-8 bytes: every delimiter is ASCII, and a scan by `Character` would run grapheme breaking
    /// over every URL of every call.
    init?(_ url: String) {
        let bytes = url.utf8
        let scheme = "http://".utf8
        guard bytes.starts(with: scheme) else { return nil }
        let authorityStart = bytes.index(bytes.startIndex, offsetBy: scheme.count)
        let end = bytes[authorityStart...].firstIndex { Self.endsAuthority($0) } ?? bytes.endIndex
        let authority = url[authorityStart..<end]
        let authorityBytes = authority.utf8
        guard !authorityBytes.isEmpty, !authorityBytes.contains(UInt8(ascii: "@")) else { return nil }
        let host: Substring
        let portText: Substring?
        if authorityBytes.first == UInt8(ascii: "[") {
            // An IPv6 literal: the port, if any, follows the closing bracket.
            guard let close = authorityBytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            host = authority[authorityBytes.index(after: authority.startIndex)..<close]
            let after = authority[authorityBytes.index(after: close)...]
            guard after.utf8.isEmpty || after.utf8.first == UInt8(ascii: ":") else { return nil }
            portText = after.utf8.isEmpty ? nil : after[after.utf8.index(after: after.startIndex)...]
        } else if let colon = authorityBytes.lastIndex(of: UInt8(ascii: ":")) {
            host = authority[..<colon]
            portText = authority[authorityBytes.index(after: colon)...]
        } else {
            host = authority
            portText = nil
        }
        guard !host.utf8.isEmpty else { return nil }
        var port = 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { return nil }
            port = value
        }
        let rest = url[end...]
        let fragment = rest.utf8.firstIndex(of: UInt8(ascii: "#")) ?? rest.endIndex
        let pathAndQuery = rest[..<fragment]
        path = pathAndQuery.utf8.first == UInt8(ascii: "/") ? String(pathAndQuery) : "/" + pathAndQuery
        origin = Origin(host: String(host), port: port)
        hostHeader = String(authority)
    }

    private static func endsAuthority(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#")
    }
}
