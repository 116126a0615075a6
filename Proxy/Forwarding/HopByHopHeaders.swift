import Foundation
import NIOHTTP1

/// The connection-scoped headers a proxy must not forward (RFC 9110 §7.6.1), in either direction.
///
/// Checked on every header of every message, so names are compared as ASCII bytes, without building
/// lowercased copies or sets.
struct HopByHopHeaders {
    /// Always hop-by-hop. `Transfer-Encoding` is re-done by each hop; `Proxy-Authorization` is meant for us.
    static let fixed: [String] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// Names listed in the message's `Connection` header (which neither nginx nor HAProxy strips).
    private var named: [String] = []

    /// The names a message's `Connection` headers add to `fixed`. Runs for every message, so the usual
    /// values, a lone `keep-alive` or `close`, are recognised without splitting or allocating.
    init(of headers: HTTPHeaders) {
        for (name, value) in headers where Self.sameName(name, "connection") {
            if Self.sameName(value, "keep-alive") || Self.sameName(value, "close") { continue }
            for token in value.split(separator: ",") {
                let name = token.trimmingCharacters(in: .whitespaces)
                if name.isEmpty || Self.sameName(name, "close") || Self.fixed.contains(where: { Self.sameName($0, name) }) { continue }
                named.append(name)
            }
        }
    }

    /// Whether a header called `name` is dropped at this hop.
    func drops(_ name: String) -> Bool {
        Self.fixed.contains { Self.sameName($0, name) } || named.contains { Self.sameName($0, name) }
    }

    /// ASCII case-insensitive equality of header names.
    static func sameName(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        let left = lhs.utf8
        let right = rhs.utf8
        guard left.count == right.count else { return false }
        return zip(left, right).allSatisfy { $0 == $1 || ($0 | 0x20 == $1 | 0x20 && ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A) }
    }
}
