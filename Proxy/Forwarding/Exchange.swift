import NIOCore

/// One request through the proxy, from its head until both the request and the response have ended.
///
/// Owned by the client connection's `ProxyHandler`; a retry starts a new attempt on the same exchange.
final class Exchange {
    let request: ClientRequestHead
    let requestID: String
    let body: RequestGuard.BodyLength
    /// Set when the client asked for it or the response cannot be delimited otherwise.
    var closeAfterResponse: Bool

    // Request body: parts not yet sent upstream, and while `replayable` also those already sent.
    var bodyParts: [ByteBuffer] = []
    var sentParts = 0
    var bodyBytes = 0
    var requestEnded = false
    var endSent = false

    // Attempts.
    var tried: [BackendAddress] = []
    var lastFailure: UpstreamFailure?
    /// The backend of the current attempt, counted in flight in the `BackendPool` until its outcome.
    var backend: BackendAddress?
    var upstream: UpstreamConnection?

    // Response.
    var responseStarted = false
    /// The backend's body has no length the client can rely on: it is re-chunked for this HTTP/1.1 client.
    var responseChunked = false
    /// The response is complete, or an error was answered: what is left of the request body is dropped.
    var responseEnded = false

    init(request: ClientRequestHead, requestID: String, body: RequestGuard.BodyLength) {
        self.request = request
        self.requestID = requestID
        self.body = body
        self.closeAfterResponse = !request.keepAlive
    }

    /// Everything sent upstream so far is still in `bodyParts`, so the request can be sent again elsewhere: its
    /// body, as far as it came, fits the buffer (bytes are dropped once sent only when it does not).
    var replayable: Bool { bodyBytes <= Forwarder.bufferedBodyBytes }

    /// Bytes received from the client and not yet sent upstream.
    var unsentBytes: Int {
        bodyParts[sentParts...].reduce(0) { $0 + $1.readableBytes }
    }
}

@available(*, unavailable)
extension Exchange: Sendable {}
