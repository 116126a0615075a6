public import HTTPTypes
public import Hummingbird
import Logging
import Synchronization

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
        let requestID = requestID(clientID: request.headers[.xRequestID])
        context.requestID = requestID
        context.logger[metadataKey: metadataKey] = .string(requestID)
        return requestID
    }

    /// The logger metadata key of the request id: Hummingbird's own, so no line carries two ids.
    static let metadataKey = "hb.request.id"

    /// The id of a request whose `X-Request-ID` reads `clientID` (nil without one): `clientID` when `RequestID`
    /// accepts it, else a fresh one. `RouterServer` assigns ids by it too, for the answers it makes itself.
    static func requestID(clientID: String?) -> String {
        var generator = SharedRequestIDGenerator()
        return RequestID.accept(clientID, generator: &generator)
    }
}

/// The process's request ids: SplitMix64 over one atomic state, so the threads share it without a lock and
/// without a `getrandom` call per id (the system generator's cost). Its output is a bijection of the state,
/// which only ever advances, so ids never repeat within a process; the seed keeps processes apart.
struct SharedRequestIDGenerator: RandomNumberGenerator {
    private static let state: Atomic<UInt64> = {
        var system = SystemRandomNumberGenerator()
        return Atomic(system.next())
    }()

    mutating func next() -> UInt64 {
        RequestIDGenerator.mix(Self.state.wrappingAdd(RequestIDGenerator.increment, ordering: .relaxed).newValue)
    }
}

extension HTTPField.Name {
    /// `X-Request-ID`, the de-facto request correlation header (made once: a name is validated when made).
    public static let xRequestID = Self("X-Request-ID")!
}
