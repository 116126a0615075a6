import CityscapeKit
import HTTPTypes
import NIOCore
import NIOHTTP1

/// Checks a request head before anything is sent upstream: target, `Host` and framing.
///
/// `HeadScanner` has already refused malformed syntax and oversized heads; what is checked here is what a
/// well-formed head may still get wrong, so the backend never sees an ambiguous message.
struct RequestGuard: Sendable {
    var limits: RequestLimits

    /// How the request body is framed.
    enum BodyLength: Equatable {
        /// No body.
        case none
        case known(Int)
        case chunked

        var framing: BodyDecoder.Framing {
            switch self {
            case .none: .none
            case .known(let length): .length(length)
            case .chunked: .chunked
            }
        }
    }

    /// Throws the `ServiceError` to answer with, or returns how the body is framed.
    func check(_ request: ClientRequestHead) throws(ServiceError) -> BodyLength {
        let wire = request.wire
        // Only origin-form targets are forwarded: a target such as `@evil.example/` or `1/` glued to a
        // backend URL would change the upstream host (SSRF) or port (found by tools/reliability/raw_fuzz.py).
        guard wire.bytes.getInteger(at: wire.bytes.readerIndex + request.target.lowerBound, as: UInt8.self) == UInt8(ascii: "/") else {
            throw ServiceError(.badRequest, code: "invalid_target", message: "the request target must be a path starting with /")
        }
        if let error = ServiceError.hostRule(hostCount: wire.count(.host), isHTTP10: request.version == .http1_0) { throw error }
        let hasLength = wire.first(.contentLength) != nil
        let hasEncoding = wire.first(.transferEncoding) != nil
        if !hasLength && !hasEncoding { return .none }
        if hasLength && hasEncoding {
            throw Self.badFraming("Content-Length and Transfer-Encoding together are ambiguous")
        }
        if hasEncoding {
            var codings = 0
            var chunked = false
            wire.forEachListElement(.transferEncoding) { coding in
                codings += 1
                chunked = wire.matches(coding, "chunked")
            }
            guard codings == 1 && chunked else { throw Self.badFraming("only Transfer-Encoding: chunked is supported") }
            return .chunked
        }
        var lengths: [Range<Int>] = []
        wire.forEachListElement(.contentLength) { lengths.append($0) }
        // Identical repeats are rejected too, like nginx: a hop that merges them and one that does not disagree.
        guard lengths.count == 1 else {
            let distinct = Set(lengths.map { wire.string($0) })
            throw Self.badFraming(distinct.count > 1 ? "differing Content-Length values" : "repeated or empty Content-Length")
        }
        guard let length = wire.decimal(lengths[0]) else { throw Self.badFraming("invalid Content-Length") }
        if length > limits.maxBodyBytes { throw Self.bodyTooLarge(limits.maxBodyBytes) }
        return length == 0 ? .none : .known(length)
    }

    static func badFraming(_ message: String) -> ServiceError {
        ServiceError(.badRequest, code: "bad_framing", message: message)
    }

    static func bodyTooLarge(_ limit: Int) -> ServiceError {
        ServiceError(.contentTooLarge, code: "body_too_large", message: "request body exceeds \(limit) bytes")
    }
}
