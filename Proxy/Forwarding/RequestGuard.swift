import CityscapeKit
import Foundation
import HTTPTypes

/// Checks a request head before anything is sent upstream: size limits and framing.
///
/// NIO's HTTP parser (llhttp) already rejects most malformed framing before a request reaches us
/// (Hummingbird answers those with a bare 400 and closes); what it passes through is checked here,
/// so the backend never sees an ambiguous message.
struct RequestGuard: Sendable {
    var limits: RequestLimits

    /// The body length the client announced: nil when it announced none (no body), `.unknown` when chunked.
    enum BodyLength: Equatable {
        case none
        case known(Int)
        case chunked
    }

    /// Throws the `ServiceError` to answer with, or returns how the body is framed.
    func check(_ request: HTTPRequest) throws(ServiceError) -> BodyLength {
        // Only origin-form targets are forwarded: the path is appended to the backend's base URL, so a
        // target such as `@evil.example/` or `1/` would change the upstream host (SSRF) or make the port
        // out of range, which traps in NIO's SocketAddress (found by tools/reliability/raw_fuzz.py).
        guard let path = request.path, path.hasPrefix("/") else {
            throw ServiceError(.badRequest, code: "invalid_target", message: "the request target must be a path starting with /")
        }
        if Self.headBytes(request) > limits.maxHeaderBytes {
            throw ServiceError(
                .init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
                code: "header_too_large",
                message: "request head exceeds \(limits.maxHeaderBytes) bytes"
            )
        }
        let lengths = request.headerFields[values: .contentLength].flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let encodings = request.headerFields[values: .transferEncoding]
        if !lengths.isEmpty && !encodings.isEmpty {
            throw Self.badFraming("Content-Length and Transfer-Encoding together are ambiguous")
        }
        if !encodings.isEmpty {
            let codings = encodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard codings == ["chunked"] else { throw Self.badFraming("only Transfer-Encoding: chunked is supported") }
            return .chunked
        }
        guard let first = lengths.first else { return .none }
        guard lengths.allSatisfy({ $0 == first }) else { throw Self.badFraming("differing Content-Length values") }
        // Identical repeats are rejected too, like nginx: a hop that merges them and one that does not disagree.
        guard lengths.count == 1 else { throw Self.badFraming("repeated Content-Length") }
        guard let length = Int(first), length >= 0, first.allSatisfy(\.isASCII) else { throw Self.badFraming("invalid Content-Length") }
        if length > limits.maxBodyBytes { throw Self.bodyTooLarge(limits.maxBodyBytes) }
        return length == 0 ? .none : .known(length)
    }

    /// Request line + headers as they were on the wire, give or take the version token.
    static func headBytes(_ request: HTTPRequest) -> Int {
        var total = request.method.rawValue.utf8.count + (request.path?.utf8.count ?? 1) + 12
        if let authority = request.authority { total += authority.utf8.count + 8 }
        for field in request.headerFields { total += field.name.rawName.utf8.count + field.value.utf8.count + 4 }
        return total + 2
    }

    static func badFraming(_ message: String) -> ServiceError {
        ServiceError(.badRequest, code: "bad_framing", message: message)
    }

    static func bodyTooLarge(_ limit: Int) -> ServiceError {
        ServiceError(.contentTooLarge, code: "body_too_large", message: "request body exceeds \(limit) bytes")
    }
}
