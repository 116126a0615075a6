import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Serves the requests of one client connection through the router: collects each request (head and
/// body), answers it in a task of its own, and writes the answer back on the connection's event loop.
///
/// Hummingbird's own server runs a task per connection that reads and writes through an async channel; a
/// connection waiting for its answer then costs a suspended task, and every request crosses that bridge
/// four times. Here the connection is plain NIO and only the router's work is a task, started when the
/// request is complete and ended with its answer.
///
/// It reads and writes NIO's HTTP/1 parts and converts the head each way itself, rather than through
/// `HTTP1ToHTTPServerCodec` in front of it: one handler fewer for every read and write of a request, and an
/// origin-form target (every request a client sends to a server, as opposed to a proxy) becomes the path as it
/// is, where the codec parses each one as a URL first.
final class RouterRequestHandler<Responder: HTTPResponder>: ChannelInboundHandler
where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: Responder
    private let logger: Logger
    private let cancellation: RequestCancellation
    private var assembly = RequestAssembly.idle
    private var context: ChannelHandlerContext?
    /// The request being read or answered, from its head to its answer.
    private var current: CurrentRequest?
    /// The task answering the current request, until its answer is back on the event loop.
    private var task: Task<Void, Never>?

    init(responder: Responder, logger: Logger, cancellation: RequestCancellation) {
        self.responder = responder
        self.logger = logger
        self.cancellation = cancellation
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        cancellation.add(ObjectIdentifier(self)) {
            handler.eventLoop.execute { handler.value.cutOff() }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        cancellation.remove(ObjectIdentifier(self))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part: HTTPRequestPart
        switch unwrapInboundIn(data) {
        case .head(let head):
            do {
                var request = try Self.request(from: head)
                current = CurrentRequest(assigningIDTo: &request)
                part = .head(request)
            } catch {
                // As the codec does: a head the HTTP types cannot express (an unknown method) is an error on the
                // connection, which closes it.
                errorCaught(context: context, error: error)
                return
            }
        case .body(let bytes):
            part = .body(bytes)
        case .end(let trailers):
            part = .end(trailers.map { HTTPFields($0, splitCookie: false) })
        }
        switch assembly.read(part) {
        case .none:
            break
        case .respond(let head, let body):
            start(Request(head: head, body: RequestBody(buffer: body ?? ByteBuffer())), context: context)
        case .reject(let error):
            let (head, body) = error.httpResponse(closing: true)
            writeOwnAnswer(head, body: body, closing: true, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let parserError = error as? HTTPParserError
        switch assembly.failed(parserError: parserError != nil) {
        case .none:
            break
        case .answerBadRequest:
            // On a closed connection the parser error is the truncation a close caused (a timeout): no one to answer.
            guard context.channel.isActive else { return }
            // The JSON error that says what was wrong (431 for an oversized head).
            let answer = parserError.map(ClientConnectionHandler.serviceError(for:)) ?? .malformedRequest("\(error)")
            let (head, body) = answer.httpResponse(closing: true)
            writeOwnAnswer(head, body: body, closing: true, context: context)
        case .close:
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch assembly.inputClosed() {
        case .none: break
        case .close: context.close(promise: nil)
        }
    }

    // MARK: Answering

    /// Runs the router for `request` in a task; the answer comes back to `finish` on this event loop.
    private func start(_ request: Request, context: ChannelHandlerContext) {
        let channel = context.channel
        let logger = self.logger
        let responder = self.responder
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let task = Task {
            let answer = await answer(request, responder: responder, channel: channel, logger: logger)
            let eventLoop = handler.eventLoop
            if eventLoop.inEventLoop {
                handler.value.finish(answer, request: request)
            } else {
                eventLoop.execute { handler.value.finish(answer, request: request) }
            }
        }
        // The drain ended before this request started (a keep-alive connection's next one): it answers 503 at once.
        if cancellation.isCancelled { task.cancel() }
        self.task = task
    }

    /// Cancels the request under way at the end of the drain. Its task then answers 503 `shutting_down` through
    /// the error middleware at once; a route that does not stop on cancellation (an upstream call that runs to
    /// its own timeout) gets the same answer from here after `cutOffWait`, and the task's late answer is dropped.
    private func cutOff() {
        guard let task, let context else { return }
        task.cancel()
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.cutOffWait) { [self] in
            guard self.task == task, let context = self.context else { return }
            self.task = nil
            _ = assembly.responded(requestAskedToClose: true)
            let (head, body) = ServiceError.shuttingDown.httpResponse(closing: true)
            writeOwnAnswer(head, body: body, closing: true, context: context)
        }
    }

    static var cutOffWait: TimeAmount { .milliseconds(250) }

    /// - Parameter answer: the router's answer, nil when something was thrown past the router.
    private func finish(_ answer: CollectedResponse?, request: Request) {
        guard task != nil else { return }  // answered by `cutOff` already
        task = nil
        guard let context else { return }  // the connection closed meanwhile
        var head = answer?.head ?? HTTPResponse(status: .internalServerError, headerFields: [.contentLength: "0"])
        // A HEAD answer keeps the GET's `Content-Length` but carries no body.
        let body = request.method == .head ? nil : answer?.body
        // `ClientConnectionHandler` spells every request that ends its connection `Connection: close`.
        let askedToClose = request.headers.contains(.connection) && request.headers[.connection] == "close"
        let closing = assembly.responded(requestAskedToClose: askedToClose) == .close
        // A server that closes after a response says so in it (RFC 9112 §9.6).
        if closing { head.headerFields[.connection] = "close" }
        if answer == nil {
            writeOwnAnswer(head, body: body, closing: closing, context: context)
        } else {
            current = nil
            head.headerFields[.date] = DateHeader.now()
            write(head, body: body, closing: closing, context: context)
        }
    }

    /// Writes an answer the server makes itself rather than the router. To a request whose head was read it
    /// carries the request's `X-Request-ID` and gets an access line, like the router's answers, so a client can
    /// quote it and the log shows it; an answer to bytes that never made a head has no request to name.
    private func writeOwnAnswer(_ head: HTTPResponse, body: ByteBuffer?, closing: Bool, context: ChannelHandlerContext) {
        var head = head
        head.headerFields[.date] = DateHeader.now()
        if let request = current {
            current = nil
            head.headerFields[.xRequestID] = request.id
            let elapsed = ContinuousClock.now - request.arrived
            OwnAnswerLog.write(
                requestID: request.id,
                method: request.method,
                target: request.target,
                status: head.status,
                elapsed: elapsed,
                logger: logger
            )
        }
        write(head, body: body, closing: closing, context: context)
    }

    private func write(_ head: HTTPResponse, body: ByteBuffer?, closing: Bool, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(HTTPResponseHead(head))), promise: nil)
        if let body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        guard closing else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        // Closed only once the last write is through: a close fails writes still queued.
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// The HTTP types' request for an HTTP/1 head, as `HTTP1ToHTTPServerCodec` makes it on a plain connection.
    static func request(from head: HTTPRequestHead) throws -> HTTPRequest {
        // Only an absolute-form target (`http://host/path`) needs the codec's URL parsing to find its path.
        guard head.uri.utf8.first == UInt8(ascii: "/") else { return try HTTPRequest(head, secure: false, splitCookie: false) }
        return HTTPRequest(
            method: try HTTPRequest.Method(head.method),
            scheme: "http",
            authority: head.headers.first(name: "host"),
            path: head.uri,
            headerFields: HTTPFields(head.headers, splitCookie: false)
        )
    }
}

@available(*, unavailable)
extension RouterRequestHandler: Sendable {}

/// The router's response to `request` with its body collected; nil when something was thrown past the router's
/// error middleware (the server answers an empty 500).
private func answer<Responder: HTTPResponder>(_ request: Request, responder: Responder, channel: any Channel, logger: Logger) async
    -> CollectedResponse?
where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    do {
        let context = Responder.Context(source: ApplicationRequestContextSource(channel: channel, logger: logger))
        return try await CollectedResponse(responder.respond(to: request, context: context))
    } catch {
        logger.debug("unhandled error: \(error)")
        return nil
    }
}

/// What the server keeps of the request a connection is reading or answering, for the answers it makes itself.
private struct CurrentRequest {
    /// The `X-Request-ID` its answer carries.
    let id: String
    let method: String
    let target: String
    /// When its head arrived: the server's own answers measure their access line's duration from here.
    let arrived: ContinuousClock.Instant

    /// Assigns `head` its id by `RequestIDMiddleware`'s rules. A generated id is written into the request's
    /// `X-Request-ID`, where the router's `RequestIDMiddleware` takes it: so the router's lines and answer and the
    /// server's own answer (the drain's cut-off) carry the same id.
    init(assigningIDTo head: inout HTTPRequest) {
        let clientID = head.headerFields[.xRequestID]
        id = RequestIDMiddleware.requestID(clientID: clientID)
        if id != clientID { head.headerFields[.xRequestID] = id }
        method = head.method.rawValue
        target = head.path ?? ""
        arrived = .now
    }
}
