import NIOCore

/// The one URL a run loads: an `http://` address and the path sent in every request.
struct Target: Sendable {
    let address: SocketAddress
    let hostHeader: String
    let path: String

    /// Parses `http://HOST:PORT/PATH?QUERY`; HOST must be a numeric address (load tests stay on known hosts).
    init(url: String) throws(TargetError) {
        guard url.hasPrefix("http://") else { throw TargetError("only http:// URLs are supported: \(url)") }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
            (1...65535).contains(port)
        else { throw TargetError("the URL needs an explicit port: \(url)") }
        let host = String(authority[..<colon]).trimmingBrackets()
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw TargetError("the host must be a numeric IP address: \(host)")
        }
        hostHeader = String(authority)
        self.path = path.isEmpty ? "/" : String(path)
    }
}

/// A URL the generator cannot load, with the reason.
struct TargetError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate func trimmingBrackets() -> String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }
}
