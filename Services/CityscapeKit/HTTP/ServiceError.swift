public import Hummingbird

/// The one error type services throw to answer a request with a failure.
///
/// Rendered as `{"error":{"code":"postal_code_not_found","message":"..."}}`: `code` is stable and meant
/// for programs, `message` is for people and may change. `extraFields` lets an API that must stay
/// wire-compatible with another one (the sun service mimics sunrise-sunset.org) add its own top-level
/// keys next to `error`.
public struct ServiceError: Error, HTTPResponseError, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields
    public var extraFields: [String: String]

    public init(
        _ status: HTTPResponse.Status,
        code: String,
        message: String,
        headers: HTTPFields = [:],
        extraFields: [String: String] = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extraFields = extraFields
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: jsonBody())))
    }

    /// The JSON body, keys sorted so the output is stable for clients that diff it, and a newline.
    ///
    /// Written with `JSONWriter`: a refusal under overload is answered thousands of times a second, and
    /// `JSONSerialization` (dictionaries of `Any`, bridged and cast per value) cost more than the rest of the answer.
    public func jsonBody() -> [UInt8] {
        var writer = JSONWriter(capacity: 48 + code.utf8.count + message.utf8.count)
        writer.beginObject()
        for key in Set(extraFields.keys).union(["error"]).sorted() {
            writer.key(key)
            if key == "error" {
                writer.beginObject()
                writer.key("code")
                writer.string(code)
                writer.key("message")
                writer.string(message)
                writer.endObject()
            } else {
                writer.string(extraFields[key] ?? "")
            }
        }
        writer.endObject()
        return writer.bytes + [UInt8(ascii: "\n")]
    }
}

extension ServiceError {
    /// 404 for a path no route matches.
    public static func routeNotFound(_ path: String) -> ServiceError {
        ServiceError(.notFound, code: "not_found", message: "no route for \(path); see the README for the endpoints")
    }

    /// 405 with the `Allow` header RFC 9110 requires.
    public static func methodNotAllowed(_ method: HTTPRequest.Method, path: String, allowed: [HTTPRequest.Method]) -> ServiceError {
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        return ServiceError(
            .methodNotAllowed,
            code: "method_not_allowed",
            message: "\(method.rawValue) is not allowed on \(path); allowed: \(allow)",
            headers: [.allow: allow]
        )
    }

    /// 431 for a request head larger than the server takes; `limit` in bytes when the server knows it.
    public static func headerTooLarge(limit: Int? = nil) -> ServiceError {
        ServiceError(
            .init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
            code: "header_too_large",
            message: limit.map { "the request head exceeds \($0) bytes" } ?? "the request head is larger than the server accepts"
        )
    }

    /// 503 for a request still running when the shutdown's drain timeout ended.
    public static let shuttingDown = ServiceError(
        .serviceUnavailable,
        code: "shutting_down",
        message: "the server is shutting down and this request did not finish within its drain timeout; retry",
        headers: [.retryAfter: "1", .connection: "close"]
    )

    /// 500 for anything unexpected; the details stay in the log, keyed by request id.
    public static func internalError(requestID: String) -> ServiceError {
        ServiceError(.internalServerError, code: "internal_error", message: "internal error; quote request id \(requestID) when reporting it")
    }
}
