import Glibc
import NIOCore

/// The socket plumbing the proxy's loop shares: one place that turns a C socket address into a
/// `SocketAddress` and that opens its sockets.
extension SocketAddress {
    /// The IPv4 or IPv6 address at `address` (nil for other families); `address` must point at memory as
    /// large as its family's structure (a `sockaddr_storage`, or what `getaddrinfo` returned).
    init?(_ address: UnsafePointer<sockaddr>, host: String) {
        switch Int32(address.pointee.sa_family) {
        case AF_INET: self = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: host) }
        case AF_INET6: self = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: host) }
        default: return nil
        }
    }

    /// The local (`getsockname`) or the peer's (`getpeername`) address of socket `fd`.
    static func of(socket fd: Int32, peer: Bool, host: String = "") -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                let got = peer ? getpeername(fd, address, &length) : getsockname(fd, address, &length)
                return got == 0 ? SocketAddress(address, host: host) : nil
            }
        }
    }

    /// A non-blocking, close-on-exec stream socket of this address's family (-1 and `errno` on failure).
    func makeNonBlockingStreamSocket() -> Int32 {
        socket(Int32(self.protocol.rawValue), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }
}
