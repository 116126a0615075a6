import Glibc
import NIOCore

/// Every TCP address of a host name, in the order `getaddrinfo` prefers them (RFC 6724), so a name such
/// as `localhost` that maps to both `::1` and `127.0.0.1` can be tried address by address, as NIO's
/// happy-eyeballs connect did. A literal IP is returned as is, with no lookup.
enum HostResolver {
    static func addresses(of host: String, port: Int) throws -> [SocketAddress] {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return [literal] }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            throw IOError(errnoCode: EHOSTUNREACH, reason: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let pointer = current.pointee.ai_addr, let address = SocketAddress(pointer, host: host) { addresses.append(address) }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw IOError(errnoCode: EHOSTUNREACH, reason: "no address for \(host)") }
        return addresses
    }
}
