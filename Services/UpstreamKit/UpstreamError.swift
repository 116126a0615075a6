/// Why an upstream call produced no HTTP response.
///
/// A struct with a private code rather than a public enum (the AsyncHTTPClient `HTTPClientError`
/// pattern), so a new cause does not break every `switch`; callers classify with the `is…`
/// properties or compare with the static values.
public struct UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: String, Sendable {
        case connectionFailed = "connection_failed"
        case connectionReset = "connection_reset"
        case timeout
        case tls
        case invalidURL = "invalid_url"
        case invalidRequest = "invalid_request"
        case bodyTooLarge = "body_too_large"
        case shutdown
        case outOfSockets = "out_of_sockets"
        case cancelled
    }

    private let code: Code
    /// What the transport reported, for logs.
    public let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// A short stable cause for metrics labels and logs: `connection_failed`, `timeout`, ...
    public var cause: String { code.rawValue }

    /// True when the deadline passed (connect or whole request): the caller answers 504.
    public var isTimeout: Bool { code == .timeout }

    /// True when this process had no file descriptor left for a new connection: the caller is overloaded, and the
    /// upstream was never asked.
    public var isOutOfSockets: Bool { code == .outOfSockets }

    /// True when the calling task was cancelled and the call abandoned (the end of a shutdown's drain): nobody failed,
    /// and the caller answers as its server does for a cancelled request.
    public var isCancelled: Bool { code == .cancelled }

    public var description: String { "\(code.rawValue): \(detail)" }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }

    /// Nobody accepted the connection (refused, unreachable, unknown host).
    public static func connectionFailed(_ detail: String) -> Self { Self(.connectionFailed, detail) }
    /// The connection broke or closed before a complete response arrived.
    public static func connectionReset(_ detail: String) -> Self { Self(.connectionReset, detail) }
    /// The connect or the whole exchange took longer than allowed.
    public static func timeout(_ detail: String) -> Self { Self(.timeout, detail) }
    /// The TLS handshake failed, typically because the certificate is not trusted.
    public static func tls(_ detail: String) -> Self { Self(.tls, detail) }
    /// The URL cannot be requested (malformed, unsupported scheme).
    public static func invalidURL(_ detail: String) -> Self { Self(.invalidURL, detail) }
    /// The request cannot be written as asked (a header or path that would break the request's framing).
    public static func invalidRequest(_ detail: String) -> Self { Self(.invalidRequest, detail) }
    /// The body exceeded ``UpstreamLimits/maximumBodyBytes``.
    public static func bodyTooLarge(_ detail: String) -> Self { Self(.bodyTooLarge, detail) }
    /// The transport is shutting down and accepts no more calls.
    public static func shutdown(_ detail: String) -> Self { Self(.shutdown, detail) }
    /// No socket could be created: the process (`EMFILE`) or the system (`ENFILE`) is out of file descriptors.
    public static func outOfSockets(_ detail: String) -> Self { Self(.outOfSockets, detail) }
    /// The calling task was cancelled: the call was abandoned before or while it ran.
    public static func cancelled(_ detail: String) -> Self { Self(.cancelled, detail) }
}
