#if os(Linux)
    import Glibc
#else
    #error("EpollKit (the proxy's event loop) is Linux-only: it is built on epoll, eventfd and accept4.")
#endif

/// A system call of the loop or of one of its sockets failed, or a connect ran out of time.
///
/// The library's own error, so its users map what happened (refused, reset, timed out) to their own terms
/// without the library posing as SwiftNIO's `IOError` or `ChannelError`.
public struct SocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call or step that failed, e.g. `connect`, `read`, `epoll_ctl(ADD)`.
    public let operation: String
    /// The `errno` of the failure; nil when the operation timed out instead.
    public let errnoCode: Int32?

    public init(_ operation: String, errno code: Int32) {
        self.operation = operation
        self.errnoCode = code
    }

    /// The connect did not complete within its timeout.
    public static func timedOut(_ operation: String) -> SocketError {
        SocketError(operation: operation, errnoCode: nil)
    }

    private init(operation: String, errnoCode: Int32?) {
        self.operation = operation
        self.errnoCode = errnoCode
    }

    public var timedOut: Bool { errnoCode == nil }

    public var description: String {
        guard let errnoCode else { return "\(operation) timed out" }
        return "\(operation) failed: \(String(cString: strerror(errnoCode))) (errno \(errnoCode))"
    }
}

/// A host name that `getaddrinfo` could not turn into any address.
public struct ResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let reason: String

    public init(host: String, reason: String) {
        self.host = host
        self.reason = reason
    }

    public var description: String { "cannot resolve \(host): \(reason)" }
}
