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

    init?(_ url: String) {
        let scheme = "http://"
        guard url.utf8.starts(with: scheme.utf8) else { return nil }
        let rest = Substring(url).dropFirst(scheme.count)
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<end]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        let host: Substring
        let portText: Substring?
        if authority.first == "[" {
            // An IPv6 literal: the port, if any, follows the closing bracket.
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.first == ":" else { return nil }
            portText = after.isEmpty ? nil : after.dropFirst()
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
            portText = nil
        }
        guard !host.isEmpty else { return nil }
        var port = 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { return nil }
            port = value
        }
        var path = String(rest[end...].prefix { $0 != "#" })
        if path.isEmpty || path.first == "?" { path = "/" + path }
        origin = Origin(host: String(host), port: port)
        self.path = path
        hostHeader = String(authority)
    }
}
