import Foundation

/// Blocking TCP connections to 127.0.0.1, for tests that speak raw bytes or only ask whether a port accepts.
public enum LoopbackSocket {
    /// A socket connected to 127.0.0.1:`port`, which the caller closes.
    /// - Parameter receiveTimeoutSeconds: bounds each `recv` on it (`SO_RCVTIMEO`); nil leaves it unbounded.
    /// - Throws: when the connection is refused or no socket can be made.
    public static func connect(port: Int, receiveTimeoutSeconds: Int? = nil) throws -> Int32 {
        let fd = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServiceProcessError("socket: errno \(errno)") }
        if let receiveTimeoutSeconds {
            var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            Foundation.close(fd)
            throw ServiceProcessError("connect to \(port): errno \(error)")
        }
        return fd
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` now (the connection is closed at once).
    public static func accepts(port: Int) -> Bool {
        guard let fd = try? connect(port: port) else { return false }
        Foundation.close(fd)
        return true
    }
}
