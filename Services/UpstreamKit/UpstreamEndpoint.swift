/// An upstream's base URL, parsed once at start-up, so that a call only adds the part of its URL that varies.
///
/// A plain `http://` base is split here into the connection it needs, its `Host` header and its path prefix;
/// a call through ``EventLoopUpstream`` then writes the prefix and its own path into the request without
/// building or parsing a whole URL. Any other base (`https://`, user info, a fragment) keeps only the text, and
/// a call joins the two as ``url(_:)`` does.
public struct UpstreamEndpoint: Sendable, Equatable {
    /// The base URL as configured, e.g. `http://127.0.0.1:8001`.
    public let baseURL: String
    /// The parsed base when the event-loop client can send to it: its `path` is the base's path as written,
    /// empty when the base has none, so that appending a call's path gives what parsing the joined URL gives.
    let plainBase: UpstreamTarget?

    public init(_ baseURL: String) {
        self.baseURL = baseURL
        // A fragment ends a URL's path, so a path appended after it would be dropped: such a base takes the
        // general route, which parses the joined URL on every call exactly as before.
        guard !baseURL.utf8.contains(UInt8(ascii: "#")), var target = UpstreamTarget(baseURL) else {
            plainBase = nil
            return
        }
        if target.path == "/" && baseURL.utf8.last != UInt8(ascii: "/") {
            // The parser writes `/` for a URL with no path; as a prefix the base has none.
            target.path = ""
        }
        plainBase = target
    }

    /// What the request line holds before `path` (a call's path and query, starting with `/` or `?`, or empty)
    /// under the plain base: its path prefix, or `/` where a URL without a path gets one.
    func requestPrefix(for path: String) -> String? {
        guard let plainBase else { return nil }
        return plainBase.path.isEmpty && path.utf8.first != UInt8(ascii: "/") ? "/" : plainBase.path
    }

    /// The whole URL of `path` (which starts with `/` or `?`, or is empty) under this base.
    public func url(_ path: String) -> String {
        baseURL + path
    }
}
