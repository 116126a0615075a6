public import HTTPTypes
public import Hummingbird
import Logging

/// Gives every request an id: the client's `X-Request-ID` when it is sane, a fresh one otherwise.
///
/// The id is echoed in the response and replaces Hummingbird's own `hb.request.id` logger metadata, so
/// every log line of the request, in this service and (through the header) in its upstreams, carries
/// the same value. Client ids are accepted only up to 128 characters from a safe set so that a
/// hostile header cannot inject text into log lines.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = CityscapeRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = request.headers[.xRequestID].flatMap(Self.acceptable) ?? Self.generate()
        context.requestID = requestID
        context.logger[metadataKey: "hb.request.id"] = .string(requestID)
        var response = try await next(request, context)
        response.headers[.xRequestID] = requestID
        return response
    }

    static func acceptable(_ candidate: String) -> String? {
        guard (1...128).contains(candidate.utf8.count) else { return nil }
        let allowed = candidate.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || "-_.:/+=".utf8.contains(byte)
        }
        return allowed ? candidate : nil
    }

    /// 128 random bits as 32 hex digits: unique enough to grep for across services.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        let hex = String(high, radix: 16) + String(low, radix: 16)
        return String(repeating: "0", count: max(0, 32 - hex.count)) + hex
    }
}

extension HTTPField.Name {
    /// `X-Request-ID`, the de-facto request correlation header.
    public static var xRequestID: Self { .init("X-Request-ID")! }
}
