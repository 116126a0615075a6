import NIOCore

/// One request through the proxy: its decisions (`machine`) and its bytes, from its head until both the
/// request and the response have ended.
///
/// Owned by the client connection's `ProxyHandler`; a retry starts a new attempt on the same exchange.
final class Exchange {
    let request: ClientRequestHead
    let requestID: ProxyRequestID
    var machine: ExchangeStateMachine

    // Request body: parts not yet sent upstream, and while `replayable` also those already sent.
    var bodyParts: [ByteBuffer] = []
    var sentParts = 0
    var bodyBytes = 0

    /// The upstream connection of the attempt in progress, once it has one.
    var upstream: UpstreamConnection?

    /// When the attempt in progress picked its backend, and how long its response head took (seconds);
    /// kept only while the pool ejects latency outliers, so the clock is not read otherwise.
    var attemptStarted: NIODeadline?
    var responseTime: Double?

    init(request: ClientRequestHead, requestID: ProxyRequestID, body: RequestGuard.BodyLength, quiescing: Bool) {
        self.requestID = requestID
        machine = ExchangeStateMachine(
            method: request.method,
            version: request.version,
            keepAlive: request.keepAlive,
            body: body,
            quiescing: quiescing
        )
        // Last, so the head moves in rather than being copied (a retain of each of its buffers).
        self.request = request
    }

    var body: RequestGuard.BodyLength { machine.body }

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
