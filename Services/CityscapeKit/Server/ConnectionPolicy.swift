/// How a server treats its client connections, below the level of requests: how many it serves,
/// how long a client may take to send a request, and how connections close on shutdown.
public struct ConnectionPolicy: Sendable {
    /// Connections served at once; a connection over it gets a 503 for its first request, then closes.
    public var maxConnections: Int
    /// From the first byte of a request to the end of its head; then 408 and close (slowloris).
    public var headerTimeout: Duration
    /// Longest silence while a request body is being read; then the connection closes.
    public var bodyTimeout: Duration
    /// On shutdown, how long an idle keep-alive connection stays open for a request already on its way.
    /// Busy connections close right after a response that says `Connection: close` instead.
    public var idleCloseGrace: Duration
    /// An idle connection (no request in progress) is closed after this; nil leaves idle connections to the
    /// server's own handling.
    public var idleTimeout: Duration?
    /// Called (on an event loop) with the `ServiceError` code of every rejection made at this level,
    /// so the owner can count them.
    public var onReject: @Sendable (_ code: String) -> Void

    public init(
        maxConnections: Int = 10_000,
        headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30),
        idleCloseGrace: Duration = .seconds(1),
        idleTimeout: Duration? = nil,
        onReject: @escaping @Sendable (_ code: String) -> Void = { _ in }
    ) {
        self.maxConnections = maxConnections
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleCloseGrace = idleCloseGrace
        self.idleTimeout = idleTimeout
        self.onReject = onReject
    }
}

/// What a client connection's one timer (`DeadlineTimer`) does when the deadline set by this policy passes.
/// Shared by `ClientConnectionHandler` and the proxy's handler, which guard connections the same way.
public enum ConnectionTimerAction: Sendable {
    /// Idle too long, or over capacity without sending a request: close.
    case close
    /// `headerTimeout` passed with the head incomplete: answer 408, close.
    case headerTimedOut
    /// `bodyTimeout` passed without a body read: close.
    case bodyTimedOut
}
