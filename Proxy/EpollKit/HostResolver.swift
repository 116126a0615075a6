import Glibc
public import NIOCore
public import NIOPosix

/// Every TCP address of a host name, in the order `getaddrinfo` prefers them (RFC 6724), so a name such
/// as `localhost` that maps to both `::1` and `127.0.0.1` can be tried address by address. A literal IP is
/// returned as is, with no lookup.
public enum HostResolver {
    /// Blocks while `getaddrinfo` asks the system (files, DNS): never call it on an `EpollLoop`; use
    /// `OffLoopResolver` there.
    public static func addresses(of host: String, port: Int) throws(ResolutionError) -> [SocketAddress] {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return [literal] }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            throw ResolutionError(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let current = entry {
            if let pointer = current.pointee.ai_addr, let address = SocketAddress(pointer, host: host) { addresses.append(address) }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw ResolutionError(host: host, reason: "no TCP address") }
        return addresses
    }
}

/// Resolves host names on a thread pool and hands the addresses back on the asking loop, so a slow DNS
/// server stalls only the connects that need that name, never the loop and every connection on it
/// (NIO's `GetaddrinfoResolver` does the same with its own thread).
public struct OffLoopResolver: Sendable {
    /// The blocking lookup; replaceable so tests can make it slow.
    public typealias Lookup = @Sendable (_ host: String, _ port: Int) throws -> [SocketAddress]

    private let lookup: Lookup
    private let threadPool: NIOThreadPool

    public init(threadPool: NIOThreadPool = .singleton, lookup: @escaping Lookup = { try HostResolver.addresses(of: $0, port: $1) }) {
        self.lookup = lookup
        self.threadPool = threadPool
    }

    /// Calls `completion` on `loop` with the addresses of `host`, or why there are none. A literal IP is
    /// answered at once, on the caller's stack.
    public func resolve(_ host: String, port: Int, on loop: EpollLoop, _ completion: @escaping (Result<[SocketAddress], any Error>) -> Void) {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return completion(.success([literal])) }
        let lookup = self.lookup
        let future = threadPool.runIfActive(eventLoop: loop) { try lookup(host, port) }
        future.assumeIsolated().whenComplete(completion)
    }
}
