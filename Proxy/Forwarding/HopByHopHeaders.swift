import Foundation
import HTTPTypes

/// The connection-scoped headers a proxy must not forward (RFC 9110 §7.6.1), in either direction.
enum HopByHopHeaders {
    /// Always hop-by-hop. `Transfer-Encoding` is re-done by each hop; `Proxy-Authorization` is meant for us.
    static let fixed: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// The fixed names plus every header named in `Connection` (which neither nginx nor HAProxy strips).
    static func names(connectionValues: [String]) -> Set<String> {
        var names = fixed
        for value in connectionValues {
            for token in value.split(separator: ",") {
                let name = token.trimmingCharacters(in: .whitespaces).lowercased()
                if !name.isEmpty { names.insert(name) }
            }
        }
        return names
    }
}
