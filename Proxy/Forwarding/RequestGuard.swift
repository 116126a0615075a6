import CityscapeKit
import HTTPTypes
import Foundation
import NIOHTTP1

/// Checks a request head before anything is sent upstream: target, size limits and framing.
///
/// NIO's HTTP parser (llhttp) already rejects most malformed framing before a request reaches us (those
/// become JSON 400s in `ClientConnectionHandler`); what it passes through is checked here, so the
/// backend never sees an ambiguous message.
struct RequestGuard: Sendable {
    var limits: RequestLimits

    /// How the request body is framed.
    enum BodyLength: Equatable {
        /// No body.
        case none
        case known(Int)
        case chunked
    }

    /// Throws the `ServiceError` to answer with, or returns how the body is framed.
    func check(_ request: HTTPRequestHead) throws(ServiceError) -> BodyLength {
        // Only origin-form targets are forwarded: a target such as `@evil.example/` or `1/` glued to a
        // backend URL would change the upstream host (SSRF) or port (found by tools/reliability/raw_fuzz.py).
        guard request.uri.utf8.first == UInt8(ascii: "/") else {
            throw ServiceError(.badRequest, code: "invalid_target", message: "the request target must be a path starting with /")
        }
        if Self.headBytes(request) > limits.maxHeaderBytes { throw .headerTooLarge(limit: limits.maxHeaderBytes) }
        let hasLength = request.headers.contains(name: "content-length")
        let hasEncoding = request.headers.contains(name: "transfer-encoding")
        if !hasLength && !hasEncoding { return .none }
        if hasLength && hasEncoding {
            throw Self.badFraming("Content-Length and Transfer-Encoding together are ambiguous")
        }
        if hasEncoding {
            let codings = request.headers["transfer-encoding"].flatMap { $0.split(separator: ",") }.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            guard codings == ["chunked"] else { throw Self.badFraming("only Transfer-Encoding: chunked is supported") }
            return .chunked
        }
        let lengths = request.headers["content-length"].flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        // Identical repeats are rejected too, like nginx: a hop that merges them and one that does not disagree.
        guard lengths.count == 1, let first = lengths.first else {
            throw Self.badFraming(Set(lengths).count > 1 ? "differing Content-Length values" : "repeated Content-Length")
        }
        guard first.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let length = Int(first) else {
            throw Self.badFraming("invalid Content-Length")
        }
        if length > limits.maxBodyBytes { throw Self.bodyTooLarge(limits.maxBodyBytes) }
        return length == 0 ? .none : .known(length)
    }

    /// Request line + headers as they were on the wire.
    static func headBytes(_ request: HTTPRequestHead) -> Int {
        var total = request.method.rawValue.utf8.count + request.uri.utf8.count + 12
        for (name, value) in request.headers { total += name.utf8.count + value.utf8.count + 4 }
        return total + 2
    }

    static func badFraming(_ message: String) -> ServiceError {
        ServiceError(.badRequest, code: "bad_framing", message: message)
    }

    static func bodyTooLarge(_ limit: Int) -> ServiceError {
        ServiceError(.contentTooLarge, code: "body_too_large", message: "request body exceeds \(limit) bytes")
    }
}
