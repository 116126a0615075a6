import Foundation

/// A TCP listener on 127.0.0.1 that accepts connections (the kernel does, through the backlog) and
/// never answers: the upstream that hangs, for timeout tests.
public final class SilentListener: Sendable {
    public let port: Int
    private let socket: Int32

    /// `listening: false` binds the port without listening, so connections to it are refused.
    public init(listening: Bool = true) throws {
        let descriptor = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ServiceProcessError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, !listening || listen(descriptor, 16) == 0 else {
            Foundation.close(descriptor)
            throw ServiceProcessError("bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.socket = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    public func close() {
        Foundation.close(socket)
    }

    /// A port on 127.0.0.1 that refuses connections for the rest of the test process: a socket stays bound
    /// to it without listening, so the kernel cannot hand the port to another test's server, as it can a
    /// port that was bound and closed.
    public static func refusedPort() throws -> Int {
        try SilentListener(listening: false).port
    }
}
