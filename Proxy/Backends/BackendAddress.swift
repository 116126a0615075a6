import Foundation

/// A backend's `HOST:PORT`, as given on the command line or in the backends file.
struct BackendAddress: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` or `[IPv6]:PORT`; nil for anything else (no scheme, no path).
    /// - Parameter allowPortZero: for listen addresses, where 0 picks a free port.
    init?(parsing text: String, allowPortZero: Bool = false) {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            ((allowPortZero ? 0 : 1)...65535).contains(port)
        else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains("/"), !host.contains(" ") else { return nil }
        self.init(host: host, port: port)
    }

    /// `HOST:PORT`, with brackets around IPv6 literals: the form used in URLs and the `Host` header.
    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The base URL requests to this backend start with.
    var baseURL: String { "http://\(description)" }
}

/// A backends file that could not be used.
struct BackendsFileError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
