import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Where one connection is in reading a request and answering it, as `RouterRequestHandler` sees it.
///
/// NIO's pipelining handler in front of it passes one request at a time: the next head arrives only after
/// the previous response has ended, so one request at most is collected or answered at any moment.
/// Each event returns what the handler must do.
enum RequestAssembly {
    /// Between requests.
    case idle
    /// The head is read; body bytes are gathered until the request's end.
    case collecting(HTTPRequest, body: ByteBuffer?)
    /// The request runs in its task; `thenClose` is set when the connection must close after its answer.
    case responding(thenClose: Bool)
    /// A rejection was written: the rest of the input is ignored while the connection closes.
    case rejected

    enum ReadAction {
        case none
        /// The request is complete: answer it.
        case respond(HTTPRequest, body: ByteBuffer?)
        /// Answer with this error and close.
        case reject(ServiceError)
    }

    enum ErrorAction {
        case none
        /// The HTTP/1 parser gave up: answer 400 and close.
        case answerBadRequest
        case close
    }

    enum InputClosedAction {
        case none
        case close
    }

    enum RespondedAction {
        /// Keep the connection for the next request.
        case keepOpen
        case close
    }

    /// The largest request body collected; a larger one is answered 413.
    static let maximumBodyBytes = 1 << 20

    mutating func read(_ part: HTTPRequestPart) -> ReadAction {
        switch (self, part) {
        case (.idle, .head(let head)):
            if head.headerFields.contains(.contentLength), let declared = head.headerFields[.contentLength].flatMap(Int.init),
                declared > Self.maximumBodyBytes
            {
                self = .rejected
                return .reject(.bodyTooLarge(limit: Self.maximumBodyBytes))
            }
            self = .collecting(head, body: nil)
            return .none
        case (.collecting(let head, var body), .body(let bytes)):
            // Out of the enum first, so the buffer is not copied on append.
            self = .rejected
            if (body?.readableBytes ?? 0) + bytes.readableBytes > Self.maximumBodyBytes {
                return .reject(.bodyTooLarge(limit: Self.maximumBodyBytes))
            }
            if body == nil {
                body = bytes
            } else {
                var more = bytes
                body!.writeBuffer(&more)
            }
            self = .collecting(head, body: body)
            return .none
        case (.collecting(let head, let body), .end):
            self = .responding(thenClose: false)
            return .respond(head, body: body)
        case (.rejected, _):
            return .none
        case (.idle, .body), (.idle, .end), (.collecting, .head), (.responding, _):
            // The decoder and the pipelining handler never deliver these; drop the connection if they do.
            self = .rejected
            return .reject(.malformedRequest("unexpected request part"))
        }
    }

    mutating func failed(parserError: Bool) -> ErrorAction {
        switch self {
        case .idle, .collecting:
            self = .rejected
            return parserError ? .answerBadRequest : .close
        case .responding:
            // The answer under way goes out first; the connection closes after it.
            self = .responding(thenClose: true)
            return .none
        case .rejected:
            return .none
        }
    }

    /// The client shut its side of the connection: nothing more will come. Closes now between requests, or
    /// after the answer under way (which the client may still read).
    mutating func inputClosed() -> InputClosedAction {
        switch self {
        case .idle, .collecting:
            self = .rejected
            return .close
        case .responding:
            self = .responding(thenClose: true)
            return .none
        case .rejected:
            return .none
        }
    }

    /// The answer of the current request is written; `requestAskedToClose` when its request said `Connection: close`.
    mutating func responded(requestAskedToClose: Bool) -> RespondedAction {
        guard case .responding(let thenClose) = self else { return .close }
        if thenClose || requestAskedToClose {
            self = .rejected
            return .close
        }
        self = .idle
        return .keepOpen
    }
}
