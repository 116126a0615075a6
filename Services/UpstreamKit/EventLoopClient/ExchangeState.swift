import NIOCore

/// One upstream connection's exchange, as a state machine: every event returns what the handler must do.
///
/// A connection carries one request at a time (no pipelining), so the states follow a single exchange:
/// idle in the pool, waiting for the response head, reading the body, and closed for good.
enum ExchangeState {
    case idle
    case awaitingHead
    case receivingBody(status: Int, keepAlive: Bool, body: ByteBuffer?)
    case closed

    enum Action {
        case none
        /// The response is complete; `reusable` when the connection may carry another request.
        case deliver(UpstreamResponse, reusable: Bool)
        /// The exchange failed; close the connection when `close` (it is in an unknown state).
        case fail(UpstreamError, close: Bool)
        /// Close without anyone to tell (an unexpected read on an idle connection).
        case close
    }

    /// Whether a request may be sent now; moves to waiting for the head when it may.
    mutating func send() -> Bool {
        guard case .idle = self else { return false }
        self = .awaitingHead
        return true
    }

    mutating func head(status: Int, keepAlive: Bool) -> Action {
        guard case .awaitingHead = self else { return unexpected() }
        self = .receivingBody(status: status, keepAlive: keepAlive, body: nil)
        return .none
    }

    mutating func body(_ part: ByteBuffer, limit: Int) -> Action {
        guard case .receivingBody(let status, let keepAlive, var body) = self else { return unexpected() }
        let size = (body?.readableBytes ?? 0) + part.readableBytes
        guard size <= limit else {
            self = .closed
            return .fail(.bodyTooLarge("the response body exceeds \(limit) bytes"), close: true)
        }
        if body == nil {
            body = part
        } else {
            var part = part
            body!.writeBuffer(&part)
        }
        self = .receivingBody(status: status, keepAlive: keepAlive, body: body)
        return .none
    }

    mutating func end() -> Action {
        guard case .receivingBody(let status, let keepAlive, let body) = self else { return unexpected() }
        self = keepAlive ? .idle : .closed
        let bytes = body.map { Array(buffer: $0) } ?? []
        return .deliver(UpstreamResponse(status: status, body: bytes), reusable: keepAlive)
    }

    /// The deadline passed before the response was complete.
    mutating func timedOut(_ detail: String) -> Action {
        failIfBusy(.timeout(detail))
    }

    /// The connection closed or failed; a request in progress fails with `error`.
    mutating func failed(_ error: UpstreamError) -> Action {
        failIfBusy(error)
    }

    /// Whether the connection is done for: nothing it receives matters any more.
    var isClosed: Bool {
        if case .closed = self { return true }
        return false
    }

    /// Whether the connection can take a request now.
    var isIdle: Bool {
        if case .idle = self { return true }
        return false
    }

    private mutating func failIfBusy(_ error: UpstreamError) -> Action {
        switch self {
        case .awaitingHead, .receivingBody:
            self = .closed
            return .fail(error, close: true)
        case .idle:
            self = .closed
            return .close
        case .closed:
            return .none
        }
    }

    /// A response part that does not fit the exchange: the connection cannot be trusted any more.
    private mutating func unexpected() -> Action {
        switch self {
        case .awaitingHead, .receivingBody:
            self = .closed
            return .fail(.connectionReset("the upstream sent a response part out of order"), close: true)
        case .idle:
            self = .closed
            return .close
        case .closed:
            return .none
        }
    }
}
