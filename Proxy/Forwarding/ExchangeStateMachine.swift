import CityscapeKit
import NIOHTTP1

/// One request through the proxy, from its head until both the request and the response have ended: its
/// attempts on backends (retries before and after bytes were sent), the response's framing, and whether the
/// connection survives it. Socket-free, like `ClientConnectionStateMachine`: `ProxyHandler` feeds it events
/// and performs the actions it returns; the bytes (body parts, heads) stay with the handler's `Exchange`.
struct ExchangeStateMachine {
    enum Attempt: Equatable {
        /// No backend chosen yet: a chunked body is read first, up to the buffered size.
        case notDispatched
        /// Waiting for a connection to `backend` (parked, or being opened).
        case connecting(BackendAddress)
        /// Writing to and reading from `backend`; `endSent`: the request's end has gone out.
        case attached(BackendAddress, endSent: Bool)
        /// No attempt any more: the response ended, an error was answered, or the client left.
        case over
    }

    enum Response: Equatable {
        case notStarted
        /// The head is forwarded; `chunked`: the body is re-chunked for this HTTP/1.1 client.
        case streaming(chunked: Bool)
        /// Complete, or an error was answered: what is left of the request body is dropped.
        case ended
    }

    enum Action: Equatable {
        case none
        /// Choose the next backend, skipping those tried; feed the result to `picked`.
        case pickBackend(excluding: TriedBackends)
        /// Get a connection to `backend` (counted in flight there until `finishAttempt`); feed it to `connected`.
        case connect(BackendAddress, isRetry: Bool)
        /// The connection came too late: hand it back to the pool.
        case releaseConnection
        /// Write the request head, then the body parts not sent yet (and the end, if `sendEnd`).
        case sendHead(sendEnd: Bool)
        /// Write the body parts not sent yet (and the end, if `sendEnd`).
        case sendBody(sendEnd: Bool)
        /// Stop reading the client until there is somewhere to put its body.
        case pauseClientReads
        /// Drop what the client sent (the response is complete).
        case dropBody
        /// End the attempt: abandon its upstream connection and feed `outcome` (if any) to the backend's health.
        /// Then, if `then` is set, do that too.
        case finishAttempt(BackendAddress?, outcome: Outcome, then: Then)
        /// Answer with the proxy's own error (nothing was sent to the client yet).
        case answer(ServiceError, closing: Bool)
        /// Answer the failure of the last attempt (nil: no backend was available): map it to the proxy's
        /// error and feed that to `answer`.
        case answerFailure(BackendFailure?)
        /// Write the 1xx head for an HTTP/1.1 client.
        case forwardInterimHead
        /// Write the final response head with this `Connection` value and framing.
        case forwardHead(connection: ConnectionHeader, chunked: Bool)
        /// The response ended: hand the upstream connection back (if `reuse`) or abandon it, feed success to
        /// the backend, then end the response to the client.
        case endResponse(BackendAddress?, reuseUpstream: Bool)
        /// Everything of this exchange is done: the connection may serve the next request.
        case finish
        /// Too late to answer: close the client connection.
        case closeClient
    }

    /// What an ended attempt tells the backend's health.
    enum Outcome: Equatable {
        case none
        case failed(BackendFailure)
    }

    /// What follows an ended attempt.
    enum Then: Equatable {
        case nothing
        /// Pick another backend (`pickBackend`).
        case retry
        case answer(ServiceError, closing: Bool)
        /// See `Action.answerFailure`.
        case answerFailure(BackendFailure)
        case closeClient
    }

    enum ConnectionHeader: Equatable {
        case none
        case close
        case keepAlive
    }

    let method: HTTPMethod
    let isHTTP10: Bool
    let body: RequestGuard.BodyLength
    private(set) var attempt: Attempt = .notDispatched
    private(set) var response: Response = .notStarted
    /// The response's body is re-chunked (kept once it has ended, for its last chunk).
    private(set) var responseChunked = false
    private(set) var requestEnded: Bool
    private(set) var closeAfterResponse: Bool
    private(set) var tried: TriedBackends = []
    private(set) var lastFailure: BackendFailure?

    init(method: HTTPMethod, version: HTTPVersion, keepAlive: Bool, body: RequestGuard.BodyLength, quiescing: Bool) {
        self.method = method
        self.isHTTP10 = version == .http1_0
        self.body = body
        requestEnded = body == .none
        closeAfterResponse = !keepAlive || quiescing
    }

    /// The backend of the attempt in progress, counted in flight in the `BackendPool` until its outcome.
    var backend: BackendAddress? {
        switch attempt {
        case .connecting(let backend), .attached(let backend, _): backend
        case .notDispatched, .over: nil
        }
    }

    var isAttached: Bool {
        if case .attached = attempt { return true }
        return false
    }

    var responseStarted: Bool { response != .notStarted }

    // MARK: Request events

    /// The head was accepted: a chunked body is read first, anything else goes to a backend now.
    func begin() -> Action {
        body == .chunked ? .none : .pickBackend(excluding: tried)
    }

    /// The backend chosen, or nil when none is left.
    mutating func picked(_ backend: BackendAddress?) -> Action {
        guard let backend else { return .answerFailure(lastFailure) }
        tried.append(backend)
        attempt = .connecting(backend)
        return .connect(backend, isRetry: tried.count > 1)
    }

    /// A connection for the attempt arrived; `current`: it is for this attempt (not an earlier one).
    mutating func connected() -> Action {
        guard case .connecting(let backend) = attempt, response != .ended else { return .releaseConnection }
        attempt = .attached(backend, endSent: requestEnded)
        return .sendHead(sendEnd: requestEnded)
    }

    /// A body part arrived. `totalBytes`: the body so far; `unsentBytes`: what the handler holds unsent, this
    /// part included. The handler keeps the part unless told to drop it (`dropBody`) or to end the attempt.
    mutating func bodyReceived(totalBytes: Int, unsentBytes: Int, limit: Int) -> Action {
        if response == .ended { return .dropBody }
        if totalBytes > limit {
            // Only a chunked body can get here: a declared length over the limit was refused with its head.
            let then: Then = responseStarted ? .closeClient : .answer(RequestGuard.bodyTooLarge(limit), closing: true)
            return endAttempt(outcome: .none, then: then)
        }
        switch attempt {
        case .attached: return .sendBody(sendEnd: false)
        case .notDispatched where body == .chunked && totalBytes >= Forwarder.bufferedBodyBytes: return .pickBackend(excluding: tried)
        case .notDispatched, .connecting: return unsentBytes >= Forwarder.bufferedBodyBytes ? .pauseClientReads : .none
        case .over: return .none
        }
    }

    /// The request's body ended.
    mutating func bodyEnded() -> Action {
        requestEnded = true
        if response == .ended { return .finish }
        switch attempt {
        case .attached(let backend, _):
            attempt = .attached(backend, endSent: true)
            return .sendBody(sendEnd: true)
        case .notDispatched where body == .chunked: return .pickBackend(excluding: tried)
        case .notDispatched, .connecting, .over: return .none
        }
    }

    /// The client's body was malformed: the client's fault, so the backend is left uncharged.
    mutating func bodyMalformed(_ reason: String) -> Action {
        let then: Then =
            responseStarted ? .closeClient : .answer(RequestGuard.badFraming("the request body was malformed: \(reason)"), closing: true)
        return endAttempt(outcome: .none, then: then)
    }

    /// The client left: whatever the exchange still holds upstream is abandoned.
    mutating func clientClosed() -> Action {
        endAttempt(outcome: .none, then: .nothing)
    }

    /// The listener is shutting down: a response not started yet says `Connection: close`.
    mutating func quiesce() {
        if !responseStarted { closeAfterResponse = true }
    }

    // MARK: Backend events

    /// The attempt failed before its response head (refused, reset, timed out, malformed). `retry`: what the
    /// retry rules say for this failure, given the request as far as it was sent.
    mutating func attemptFailed(_ failure: BackendFailure, retry: Bool) -> Action {
        guard backend != nil else { return .none }
        if responseStarted {
            // Mid-response: too late to tell the client, so it is cut off rather than left waiting.
            return endAttempt(outcome: .failed(failure), then: .closeClient)
        }
        lastFailure = failure
        return endAttempt(outcome: .failed(failure), then: retry ? .retry : .answerFailure(failure))
    }

    /// A response head arrived; `untilClose`: its body has no length the client can rely on.
    mutating func responseHead(status: Int, untilClose: Bool) -> Action {
        guard isAttached, response == .notStarted else { return .none }
        if status < 200 { return isHTTP10 ? .none : .forwardInterimHead }
        var chunked = false
        if untilClose {
            // Re-chunked for HTTP/1.1; for HTTP/1.0 the close delimits it.
            if isHTTP10 { closeAfterResponse = true } else { chunked = true }
        }
        response = .streaming(chunked: chunked)
        responseChunked = chunked
        let connection: ConnectionHeader = closeAfterResponse ? .close : (isHTTP10 ? .keepAlive : .none)
        return .forwardHead(connection: connection, chunked: chunked)
    }

    /// The response ended. A backend that answered before the whole request was sent cannot be reused: it
    /// is mid-message.
    mutating func responseEnded() -> Action {
        guard case .attached(let backend, let endSent) = attempt else { return .none }
        attempt = .over
        response = .ended
        return .endResponse(backend, reuseUpstream: endSent)
    }

    // MARK: Answers

    /// Answers with the proxy's own error, if nothing was sent to the client yet.
    mutating func answer(_ error: ServiceError, closing: Bool) -> Action {
        guard response == .notStarted else { return .none }
        closeAfterResponse = closeAfterResponse || closing
        response = .ended
        attempt = .over
        return .answer(error, closing: closeAfterResponse)
    }

    private mutating func endAttempt(outcome: Outcome, then: Then) -> Action {
        let backend = self.backend
        attempt = then == .retry ? .notDispatched : .over
        switch then {
        case .answer(let error, let closing):
            // Ends the response here, so the handler answers without asking again.
            _ = answer(error, closing: closing)
            return .finishAttempt(backend, outcome: outcome, then: .answer(error, closing: closeAfterResponse))
        case .nothing, .retry, .answerFailure, .closeClient:
            return .finishAttempt(backend, outcome: outcome, then: then)
        }
    }
}
