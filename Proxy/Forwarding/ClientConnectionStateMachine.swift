/// The life of one client connection around its requests: which deadline runs, when it may close, and
/// whether it is quiescing. Socket-free: it consumes events and returns the action `ProxyHandler` performs,
/// as AsyncHTTPClient's `HTTP1ConnectionStateMachine` does; the exchange in progress has its own machine
/// (`ExchangeStateMachine`).
struct ClientConnectionStateMachine: Equatable {
    enum State: Equatable {
        /// No request in progress and no byte of the next one read: the idle timeout runs (the grace when quiescing).
        case idle
        /// The next head has started to arrive: it must be complete within the header timeout.
        case readingHead
        /// A request is being served; while its body is read, each read must come within the body timeout.
        case exchange(readingBody: Bool)
        /// An answer that ends the connection is being flushed: nothing more is read or answered.
        case closing
        case closed
    }

    /// The connection's one deadline, by what its expiry means.
    enum Deadline: Equatable {
        /// Between requests: the connection closes.
        case idle
        /// Quiescing and idle: the connection closes after a short grace.
        case grace
        /// Over the connection limit: one header timeout to send the request that 503 answers.
        case overCapacity
        /// The head in progress is late: 408, then close.
        case header
        /// The body in progress is late: close (a response may be under way).
        case body
    }

    enum Action: Equatable {
        case none
        case setDeadline(Deadline)
        case clearDeadline
        /// The exchange in progress must end the connection after its response.
        case closeAfterResponse
        /// Answer 408 (no request was read), then close.
        case answerHeaderTimeoutAndClose
        /// Close at once, whatever is under way.
        case close
        /// The body stopped arriving: counted as a request timeout, then closed at once (a response to it
        /// may be under way, so no answer can be written).
        case closeOnBodyTimeout
    }

    private(set) var state: State = .idle
    private(set) var quiescing = false
    let overCapacity: Bool

    init(overCapacity: Bool) {
        self.overCapacity = overCapacity
    }

    /// Whether bytes from the client are still read and answered.
    var isOpen: Bool {
        switch state {
        case .idle, .readingHead, .exchange: true
        case .closing, .closed: false
        }
    }

    // MARK: Events

    /// The connection was accepted.
    func accepted() -> Action {
        .setDeadline(overCapacity ? .overCapacity : .idle)
    }

    /// Bytes were read: while a body is read, its deadline moves on.
    func bytesRead() -> Action {
        state == .exchange(readingBody: true) ? .setDeadline(.body) : .none
    }

    /// Part of a head arrived and more is needed.
    mutating func headIncomplete() -> Action {
        guard state == .idle else { return .none }
        state = .readingHead
        // Over the limit, the deadline set on accept already bounds the head.
        return overCapacity ? .none : .setDeadline(.header)
    }

    /// A whole head was read: its exchange starts, reading a body if it has one.
    mutating func headReceived(hasBody: Bool) -> Action {
        guard isOpen else { return .none }
        state = .exchange(readingBody: hasBody)
        return hasBody ? .setDeadline(.body) : .clearDeadline
    }

    /// The request's body ended.
    mutating func bodyEnded() -> Action {
        guard state == .exchange(readingBody: true) else { return .none }
        state = .exchange(readingBody: false)
        return .clearDeadline
    }

    /// The exchange finished with the connection kept; `pendingBytes`: a pipelined request was read already.
    mutating func exchangeFinished(pendingBytes: Bool) -> Action {
        guard case .exchange = state else { return .none }
        state = .idle
        if pendingBytes { return .none }
        return .setDeadline(quiescing ? .grace : .idle)
    }

    /// The listener is shutting down. Closing an idle connection at once would race a request the client
    /// may be sending right then: a busy one closes after its response, an idle one after a grace.
    mutating func quiesce(pendingBytes: Bool) -> Action {
        guard isOpen, !quiescing else { return .none }
        quiescing = true
        switch state {
        case .idle: return pendingBytes ? .none : .setDeadline(.grace)
        case .exchange: return .closeAfterResponse
        case .readingHead, .closing, .closed: return .none
        }
    }

    /// An answer that ends the connection was written.
    mutating func closingAfterAnswer() {
        if state != .closed { state = .closing }
    }

    /// The connection is closed now (a timeout, a failure, a drain that ran out).
    mutating func closeRequested() -> Action {
        guard state != .closed else { return .none }
        state = .closing
        return .close
    }

    /// The socket closed: the client left, or a close completed.
    mutating func closed() {
        state = .closed
    }

    /// `deadline` passed.
    mutating func deadlinePassed(_ deadline: Deadline) -> Action {
        guard isOpen else { return .none }
        switch deadline {
        case .header where state == .readingHead:
            state = .closing
            return .answerHeaderTimeoutAndClose
        case .body:
            state = .closing
            return .closeOnBodyTimeout
        case .idle, .grace, .overCapacity, .header:
            state = .closing
            return .close
        }
    }
}
