public import HTTPTypes
public import Hummingbird
import Logging

/// Gives every request an id: the client's `X-Request-ID` when it is sane, a fresh one otherwise.
///
/// The id is echoed in the response and replaces Hummingbird's own `hb.request.id` logger metadata, so
/// every log line of the request, in this service and (through the header) in its upstreams, carries
/// the same value. `RequestID` holds the rules for accepting a client's id.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = CityscapeRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = Self.assign(request, to: &context)
        var response = try await next(request, context)
        response.headers[.xRequestID] = requestID
        return response
    }

    /// Sets the request's id on `context` and its logger, and returns it for the response header.
    static func assign(_ request: Request, to context: inout Context) -> String {
        // Costs nothing unless an id is generated (then two `getrandom` calls; the proxy keeps a faster one per connection).
        var generator = SystemRandomNumberGenerator()
        let requestID = RequestID.accept(request.headers[.xRequestID], generator: &generator)
        context.requestID = requestID
        context.logger[metadataKey: "hb.request.id"] = .string(requestID)
        return requestID
    }
}

extension HTTPField.Name {
    /// `X-Request-ID`, the de-facto request correlation header.
    public static var xRequestID: Self { .init("X-Request-ID")! }
}
