import CityscapeKit
import NIOHTTP1
import Testing

@testable import ProxyServer

/// One exchange's machine, without sockets: attempts, retries, response framing, answers.
@Suite("Exchange state machine")
struct ExchangeStateMachineTests {
    typealias Machine = ExchangeStateMachine
    static let a = BackendAddress(host: "127.0.0.1", port: 1)
    static let b = BackendAddress(host: "127.0.0.1", port: 2)
    static let limit = 1024 * 1024
    static let refused = BackendFailure.connectFailed("refused")
    static let reset = BackendFailure.closedBeforeResponse("reset")

    static func machine(
        _ method: HTTPMethod = .GET,
        version: HTTPVersion = .http1_1,
        keepAlive: Bool = true,
        body: RequestGuard.BodyLength = .none,
        quiescing: Bool = false
    ) -> Machine {
        Machine(method: method, version: version, keepAlive: keepAlive, body: body, quiescing: quiescing)
    }

    /// A machine whose attempt on `a` is attached.
    static func attached(body: RequestGuard.BodyLength = .none, version: HTTPVersion = .http1_1, keepAlive: Bool = true) -> Machine {
        var machine = machine(version: version, keepAlive: keepAlive, body: body)
        _ = machine.picked(a)
        _ = machine.connected()
        return machine
    }

    // MARK: Dispatch

    @Test("a request without a body or with a known length goes to a backend at once; a chunked one is read first")
    func begin() {
        #expect(Self.machine().begin() == .pickBackend(excluding: []))
        #expect(Self.machine(body: .known(5)).begin() == .pickBackend(excluding: []))
        #expect(Self.machine(body: .chunked).begin() == .none)
        #expect(Self.machine().requestEnded)
        #expect(!Self.machine(body: .known(5)).requestEnded)
    }

    @Test("a picked backend is connected to; no backend left answers the last failure (none: 503)")
    func picked() {
        var machine = Self.machine()
        #expect(machine.picked(nil) == .answerFailure(nil))
        var chosen = Self.machine()
        #expect(chosen.picked(Self.a) == .connect(Self.a, isRetry: false))
        #expect(chosen.attempt == .connecting(Self.a))
        #expect(chosen.backend == Self.a)
        #expect(chosen.tried == [Self.a])
    }

    @Test("a connection sends the head, and the end when the request has ended; one that comes too late is released")
    func connected() {
        var ended = Self.machine()
        _ = ended.picked(Self.a)
        #expect(ended.connected() == .sendHead(sendEnd: true))
        #expect(ended.attempt == .attached(Self.a, endSent: true))
        var streaming = Self.machine(body: .known(10))
        _ = streaming.picked(Self.a)
        #expect(streaming.connected() == .sendHead(sendEnd: false))
        #expect(streaming.attempt == .attached(Self.a, endSent: false))
        var late = Self.machine()
        _ = late.picked(Self.a)
        _ = late.answer(.malformedRequest("x"), closing: false)
        #expect(late.connected() == .releaseConnection)
        var notWaiting = Self.machine()
        #expect(notWaiting.connected() == .releaseConnection)
    }

    // MARK: Request body

    @Test("body parts: sent when attached, held while connecting (pausing the client past the buffer), dispatched once a chunked body fills it")
    func bodyParts() {
        var attached = Self.attached(body: .known(100))
        #expect(attached.bodyReceived(totalBytes: 10, unsentBytes: 10, limit: Self.limit) == .sendBody(sendEnd: false))
        var connecting = Self.machine(body: .known(200_000))
        _ = connecting.picked(Self.a)
        #expect(connecting.bodyReceived(totalBytes: 10, unsentBytes: 10, limit: Self.limit) == .none)
        let full = Forwarder.bufferedBodyBytes
        #expect(connecting.bodyReceived(totalBytes: full, unsentBytes: full, limit: Self.limit) == .pauseClientReads)
        var chunked = Self.machine(body: .chunked)
        #expect(chunked.bodyReceived(totalBytes: 10, unsentBytes: 10, limit: Self.limit) == .none)
        #expect(chunked.bodyReceived(totalBytes: full, unsentBytes: full, limit: Self.limit) == .pickBackend(excluding: []))
    }

    @Test("a chunked body over the limit: 413 before the response started, the client cut off after; never charged to the backend")
    func bodyTooLarge() {
        var early = Self.machine(body: .chunked)
        let action = early.bodyReceived(totalBytes: Self.limit + 1, unsentBytes: 0, limit: Self.limit)
        #expect(action == .finishAttempt(nil, outcome: .none, then: .answer(RequestGuard.bodyTooLarge(Self.limit), closing: true)))
        #expect(early.closeAfterResponse)
        #expect(early.response == .ended)
        var late = Self.attached(body: .chunked)
        _ = late.responseHead(status: 200, untilClose: false)
        let lateAction = late.bodyReceived(totalBytes: Self.limit + 1, unsentBytes: 0, limit: Self.limit)
        #expect(lateAction == .finishAttempt(Self.a, outcome: .none, then: .closeClient))
    }

    @Test("after the response ended, the rest of the body is dropped and its end finishes the exchange")
    func bodyAfterResponse() {
        var machine = Self.attached(body: .known(100))
        _ = machine.responseHead(status: 200, untilClose: false)
        #expect(machine.responseEnded() == .endResponse(Self.a, reuseUpstream: false))
        #expect(machine.bodyReceived(totalBytes: 50, unsentBytes: 50, limit: Self.limit) == .dropBody)
        #expect(machine.bodyEnded() == .finish)
    }

    @Test("the body's end: sent when attached, dispatches a buffered chunked body, waits while connecting")
    func bodyEnd() {
        var attached = Self.attached(body: .known(5))
        #expect(attached.bodyEnded() == .sendBody(sendEnd: true))
        #expect(attached.attempt == .attached(Self.a, endSent: true))
        var chunked = Self.machine(body: .chunked)
        #expect(chunked.bodyEnded() == .pickBackend(excluding: []))
        var connecting = Self.machine(body: .known(5))
        _ = connecting.picked(Self.a)
        #expect(connecting.bodyEnded() == .none)
        #expect(connecting.connected() == .sendHead(sendEnd: true))
    }

    @Test("a malformed body is the client's fault: 400 bad_framing, or a cut-off once the response started; the backend is not charged")
    func malformedBody() {
        var early = Self.attached(body: .chunked)
        let expected = RequestGuard.badFraming("the request body was malformed: bad")
        #expect(early.bodyMalformed("bad") == .finishAttempt(Self.a, outcome: .none, then: .answer(expected, closing: true)))
        var late = Self.attached(body: .chunked)
        _ = late.responseHead(status: 200, untilClose: false)
        #expect(late.bodyMalformed("bad") == .finishAttempt(Self.a, outcome: .none, then: .closeClient))
    }

    @Test("the client leaving abandons the attempt without a verdict on the backend")
    func clientLeft() {
        var machine = Self.attached()
        #expect(machine.clientClosed() == .finishAttempt(Self.a, outcome: .none, then: .nothing))
        #expect(machine.attempt == .over)
        var idle = Self.machine(body: .chunked)
        #expect(idle.clientClosed() == .finishAttempt(nil, outcome: .none, then: .nothing))
    }

    // MARK: Failures and retries

    @Test("a failed attempt is charged; a retry excludes the backends tried; the next pick counts as a retry")
    func retry() {
        var machine = Self.machine()
        _ = machine.picked(Self.a)
        #expect(machine.attemptFailed(Self.refused, retry: true) == .finishAttempt(Self.a, outcome: .failed(Self.refused), then: .retry))
        #expect(machine.attempt == .notDispatched)
        #expect(machine.lastFailure == Self.refused)
        #expect(machine.picked(Self.b) == .connect(Self.b, isRetry: true))
        #expect(machine.tried == [Self.a, Self.b])
        #expect(machine.attemptFailed(Self.refused, retry: true) == .finishAttempt(Self.b, outcome: .failed(Self.refused), then: .retry))
        // No backend left: the last failure is answered (502 for a refused connect).
        #expect(machine.picked(nil) == .answerFailure(Self.refused))
    }

    @Test(
        "retries follow RetryPolicy: before bytes were sent any method, after only idempotent ones",
        arguments: [
            (HTTPMethod.POST, ExchangeStateMachineTests.refused, true),
            (.POST, ExchangeStateMachineTests.reset, false),
            (.GET, ExchangeStateMachineTests.reset, true),
            (.GET, BackendFailure.timeout, false),
        ]
    )
    func retryRules(method: HTTPMethod, failure: BackendFailure, retried: Bool) {
        let retry = RetryPolicy(maxRetries: 2).shouldRetry(failure, method: method, hasBody: false, retriesSoFar: 0)
        var machine = Self.machine(method)
        _ = machine.picked(Self.a)
        _ = machine.connected()
        let then: Machine.Then = retried ? .retry : .answerFailure(failure)
        #expect(machine.attemptFailed(failure, retry: retry) == .finishAttempt(Self.a, outcome: .failed(failure), then: then))
    }

    @Test("a backend failing mid-response (closing early) cuts the client off and is charged; no retry whatever the rules")
    func failureMidResponse() {
        var machine = Self.attached()
        _ = machine.responseHead(status: 200, untilClose: false)
        #expect(machine.attemptFailed(Self.reset, retry: true) == .finishAttempt(Self.a, outcome: .failed(Self.reset), then: .closeClient))
        #expect(machine.attempt == .over)
    }

    @Test("a failure with no attempt in progress is ignored")
    func failureWithoutAttempt() {
        var machine = Self.machine(body: .chunked)
        #expect(machine.attemptFailed(Self.reset, retry: true) == .none)
    }

    // MARK: Response

    @Test("1xx heads go to HTTP/1.1 clients only and do not start the response")
    func interim() {
        var http11 = Self.attached()
        #expect(http11.responseHead(status: 100, untilClose: false) == .forwardInterimHead)
        #expect(!http11.responseStarted)
        var http10 = Self.attached(version: .http1_0, keepAlive: true)
        #expect(http10.responseHead(status: 100, untilClose: false) == .none)
    }

    @Test(
        "final heads: re-chunked for HTTP/1.1 when the body has no length, closed for HTTP/1.0; Connection as needed",
        arguments: [
            (HTTPVersion.http1_1, true, false, Machine.ConnectionHeader.none, true),
            (.http1_1, false, false, .none, false),
            (.http1_1, false, true, .close, false),
            (.http1_0, false, false, .keepAlive, false),
            (.http1_0, true, false, .close, false),
        ]
    )
    func finalHead(version: HTTPVersion, untilClose: Bool, clientCloses: Bool, connection: Machine.ConnectionHeader, chunked: Bool) {
        var machine = Self.attached(version: version, keepAlive: !clientCloses)
        #expect(machine.responseHead(status: 200, untilClose: untilClose) == .forwardHead(connection: connection, chunked: chunked))
        #expect(machine.responseChunked == chunked)
        #expect(machine.response == .streaming(chunked: chunked))
    }

    @Test("the response's end releases the upstream for reuse only if the whole request was sent")
    func responseEnd() {
        var complete = Self.attached()
        _ = complete.responseHead(status: 200, untilClose: false)
        #expect(complete.responseEnded() == .endResponse(Self.a, reuseUpstream: true))
        #expect(complete.response == .ended)
        #expect(complete.responseEnded() == .none)
        var early = Self.attached(body: .known(100))
        _ = early.responseHead(status: 200, untilClose: false)
        #expect(early.responseEnded() == .endResponse(Self.a, reuseUpstream: false))
    }

    // MARK: Quiesce and answers

    @Test("quiescing before the response head says Connection: close; after it, the response stays as it started")
    func quiesce() {
        var before = Self.attached()
        before.quiesce()
        #expect(before.responseHead(status: 200, untilClose: false) == .forwardHead(connection: .close, chunked: false))
        var after = Self.attached()
        _ = after.responseHead(status: 200, untilClose: false)
        after.quiesce()
        #expect(!after.closeAfterResponse)
        #expect(Self.machine(quiescing: true).closeAfterResponse)
    }

    @Test("an answer is written once and only before the response started; closing sticks")
    func answers() {
        var machine = Self.machine()
        let error = ServiceError.malformedRequest("x")
        #expect(machine.answer(error, closing: true) == .answer(error, closing: true))
        #expect(machine.answer(error, closing: false) == .none)
        var keepAlive = Self.machine()
        #expect(keepAlive.answer(error, closing: false) == .answer(error, closing: false))
        var closingClient = Self.machine(keepAlive: false)
        #expect(closingClient.answer(error, closing: false) == .answer(error, closing: true))
        var started = Self.attached()
        _ = started.responseHead(status: 200, untilClose: false)
        #expect(started.answer(error, closing: false) == .none)
    }
}
