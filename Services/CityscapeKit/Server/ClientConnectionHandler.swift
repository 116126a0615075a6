import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Guards one client connection at the HTTP/1 level, adding what a server facing untrusted clients needs and
/// the HTTP/1 codec lacks.
///
/// It sits right after the HTTP/1 decoder, sees every request head, response part, parser error and
/// quiesce event, and acts on them:
/// - **connection limit**: on a connection over `maxConnections`, the first request gets a 503 and the
///   connection closes;
/// - **Host**: an HTTP/1.1 request without `Host`, or any request with two, gets a 400 (RFC 9112 §3.2);
/// - **timeouts**: a request head must be complete `headerTimeout` after its first byte (else 408), a
///   body may not stall longer than `bodyTimeout` (else the connection closes), and an idle connection
///   closes after `idleTimeout`;
/// - **malformed requests**: `RouterRequestHandler` answers a parser error with our JSON error (431 for an
///   oversized head), and the connection closes after it;
/// - **client gone**: a client that closes its side while its request is unanswered is taken as gone (as
///   nginx does, its 499): the connection closes, so work still waiting for it can skip it;
/// - **graceful shutdown**: NIO's pipelining handler closes an idle keep-alive connection as soon as the
///   server quiesces, racing a request the client may be sending right then (the requests nginx drops on
///   reload). Here a busy connection closes after a response carrying `Connection: close`, and an idle
///   one after `idleCloseGrace`, unless a request starts meanwhile, which is then served the same way.
final class ClientConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Where the connection is in its request/response cycle, as far as the timeouts care.
    private enum Phase {
        /// No request is being read (a response may still be in progress).
        case idle
        /// Bytes of a request arrived; its head is not complete yet.
        case readingHead
        case readingBody
        /// The request is read; its response is not finished.
        case awaitingResponse
    }

    private let policy: ConnectionPolicy
    private let overCapacity: Bool
    private var phase = Phase.idle
    /// Requests whose head was read and whose response has not ended.
    private var pendingResponses = 0
    /// Set on quiesce and after a parser error: the next response says `Connection: close`, then we close.
    private var closeAfterResponse = false
    private var quiescing = false
    /// After a rejection was answered: the rest of that request is dropped while the connection closes.
    private var discardingInput = false
    private var timer: DeadlineTimer<ConnectionTimerAction>?
    private var context: ChannelHandlerContext?
    /// For the access lines of the requests it rejects.
    private let logger: Logger

    init(policy: ConnectionPolicy, overCapacity: Bool, logger: Logger) {
        self.policy = policy
        self.overCapacity = overCapacity
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        timer = DeadlineTimer(eventLoop: context.eventLoop) { [self] action in
            switch action {
            case .close: close()
            case .headerTimedOut: headerTimedOut()
            case .bodyTimedOut: bodyTimedOut()
            }
        }
        // A connection over the limit gets one header timeout to send the request its 503 answers.
        if overCapacity {
            schedule(after: policy.headerTimeout, .close)
        } else if let idle = policy.idleTimeout {
            schedule(after: idle, .close)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimer()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    /// Called by `ClientBytesObserver` for every read, before decoding.
    func bytesArrived() {
        switch phase {
        case .idle:
            phase = .readingHead
            if !overCapacity { schedule(after: policy.headerTimeout, .headerTimedOut) }
        case .readingBody:
            schedule(after: policy.bodyTimeout, .bodyTimedOut)
        case .readingHead, .awaitingResponse:
            break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if discardingInput { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            cancelTimer()
            if let rejection = rejection(of: head) {
                discardingInput = true
                respondAndClose(rejection, to: head)
                return
            }
            pendingResponses += 1
            phase = .readingBody
            schedule(after: policy.bodyTimeout, .bodyTimedOut)
            // Whether the client keeps the connection depends on its HTTP version and on `Connection` tokens in any
            // case or list (RFC 9112 §9.3), which only this head still shows: the HTTP types after it carry no
            // version. So a request that ends its connection says so in the one spelling the server reads.
            if !head.isKeepAlive && head.headers["connection"] != ["close"] {
                var closing = head
                closing.headers.replaceOrAdd(name: "connection", value: "close")
                context.fireChannelRead(wrapInboundOut(.head(closing)))
                return
            }
        case .body:
            break
        case .end:
            cancelTimer()
            phase = pendingResponses == 0 ? .idle : .awaitingResponse
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        // NIO's pipelining handler (after this one) holds back reads while a response is pending, so NIO takes the
        // socket out of epoll after every request and puts it back after every answer: two system calls per
        // request. Reading on while the one request is answered keeps it in; what arrives meanwhile (a pipelined
        // request) waits in the pipelining handler, and with two requests pending the hold-back applies again,
        // so no more than one read's worth is ever taken ahead.
        if pendingResponses == 1 && phase == .awaitingResponse && !discardingInput {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, pendingResponses > 0, phase == .awaitingResponse {
            // The client closed its side with its request unanswered: like nginx (499), take it as gone and
            // close, so work still waiting for it (the blocking gateway's queue) sees an inactive channel.
            close()
            return
        }
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Not forwarded: NIO's pipelining handler would close an idle connection at once.
        quiescing = true
        if pendingResponses == 0 && phase == .idle {
            schedule(after: policy.idleCloseGrace, .close)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A parser error on a closed connection is the truncation our own close caused (a timeout), not the client's.
        if let error = error as? HTTPParserError, context.channel.isActive {
            closeAfterResponse = true
            policy.onReject(Self.serviceError(for: error).code)
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            // A response that announces `Connection: close` (a 503 `overloaded`) ends the connection, as RFC 9112
            // requires of the server that sends it; the server itself closes only when the request asked to.
            if !closeAfterResponse && Self.saysClose(head.headers) { closeAfterResponse = true }
            // The common case passes the part on as it came, without re-wrapping (a copy and a box per response).
            guard closeAfterResponse || quiescing else {
                context.write(data, promise: promise)
                return
            }
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            pendingResponses = max(0, pendingResponses - 1)
            if pendingResponses == 0 && phase == .awaitingResponse {
                phase = .idle
                if let idle = policy.idleTimeout { schedule(after: idle, .close) }
            }
            if pendingResponses == 0 && (closeAfterResponse || quiescing) {
                writeThenClose(data, promise: promise)
            } else {
                context.write(data, promise: promise)
            }
        }
    }

    // MARK: Rejections and timeouts

    private func rejection(of head: HTTPRequestHead) -> ServiceError? {
        if overCapacity { return .tooManyConnections(limit: policy.maxConnections) }
        return .hostRule(hostCount: Self.hostCount(head.headers), isHTTP10: head.version == .http1_0 || head.version == .http0_9)
    }

    /// How many `Host` fields a head carries, counted in place (`headers["host"]` builds an array of values).
    static func hostCount(_ headers: HTTPHeaders) -> Int {
        var count = 0
        for (name, _) in headers where name.utf8.count == 4 {
            if name.utf8.elementsEqual("host".utf8, by: { $0 | 0x20 == $1 }) { count += 1 }
        }
        return count
    }

    /// Whether a `Connection` field lists `close`, read in place like `hostCount`.
    static func saysClose(_ headers: HTTPHeaders) -> Bool {
        for (name, value) in headers where name.utf8.count == 10 {
            guard name.utf8.elementsEqual("connection".utf8, by: { $0 | 0x20 == $1 }) else { continue }
            if value.lowercased().split(separator: ",").contains(where: { $0.filter { !$0.isWhitespace } == "close" }) {
                return true
            }
        }
        return false
    }

    private func headerTimedOut() {
        guard pendingResponses == 0 else { return close() }
        discardingInput = true
        respondAndClose(.requestHeadTimeout(policy.headerTimeout), to: nil)
    }

    private func bodyTimedOut() {
        // A response to this request may be under way; writing another would corrupt it, so just close.
        policy.onReject("request_timeout")
        close()
    }

    static func serviceError(for error: HTTPParserError) -> ServiceError {
        if case .headerOverflow = error { return .headerTooLarge() }
        return .malformedRequest("\(error)")
    }

    // MARK: Writing

    /// Answers from here, bypassing the application, then closes. The answer to a request whose head was read
    /// carries its `X-Request-ID` and gets an access line, as every answer to a request does; one to a head that
    /// never came (the 408) has no request to name.
    private func respondAndClose(_ error: ServiceError, to request: HTTPRequestHead?) {
        guard let context else { return }
        policy.onReject(error.code)
        var (head, body) = error.http1Response(closing: true)
        head.headers.add(name: "date", value: DateHeader.now())
        if let request {
            let requestID = RequestIDMiddleware.requestID(clientID: HTTPFields(request.headers, splitCookie: false)[.xRequestID])
            head.headers.add(name: HTTPField.Name.xRequestID.rawName, value: requestID)
            // Answered as its head arrives.
            OwnAnswerLog.write(
                requestID: requestID,
                method: request.method.rawValue,
                target: request.uri,
                status: error.status,
                elapsed: .zero,
                logger: logger
            )
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        writeThenClose(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Closes only once the last write is through: a close fails writes still queued.
    private func writeThenClose(_ data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let context else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(data, promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        written.futureResult.cascade(to: promise)
    }

    private func close() {
        cancelTimer()
        context?.close(promise: nil)
    }

    private func schedule(after delay: Duration, _ action: ConnectionTimerAction) {
        timer?.set(after: delay.timeAmount, action)
    }

    /// Stops the pending action; the scheduled task itself is left to fire and find nothing to do.
    private func cancelTimer() {
        timer?.clear()
    }

    /// The connection is going away: the scheduled task goes too.
    private func stopTimer() {
        timer?.stop()
    }
}

@available(*, unavailable)
extension ClientConnectionHandler: Sendable {}

/// Reports every read to `ClientConnectionHandler` before the decoder sees it, so the header timeout
/// runs from a request's first byte rather than from its complete head.
final class ClientBytesObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let connection: ClientConnectionHandler

    init(connection: ClientConnectionHandler) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.bytesArrived()
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension ClientBytesObserver: Sendable {}
