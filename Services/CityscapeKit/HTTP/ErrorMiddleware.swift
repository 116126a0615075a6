import Foundation
public import Hummingbird
import Logging

/// Turns every thrown error into a JSON response, so no failure reaches the client as an empty body.
///
/// `ServiceError`s pass through as they are. Hummingbird's own `HTTPError`s (the router's 404, a body
/// that is too large, ...) are re-rendered in the `ServiceError` shape. Anything else is a bug: it is
/// logged once at `error` with the request id and answered with a generic 500. A request cancelled by
/// the end of the shutdown drain gets a 503.
public struct ErrorMiddleware: RouterMiddleware {
    public typealias Context = CityscapeRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try Self.response(for: error, request: request, context: context)
        }
    }

    /// The JSON answer to `error`, thrown while serving `request`.
    static func response(for error: any Error, request: Request, context: Context) throws -> Response {
        switch error {
        case let error as ServiceError:
            return try error.response(from: request, context: context)
        case let error as HTTPError:
            return try Self.serviceError(for: error, request: request).response(from: request, context: context)
        case is CancellationError:
            // The drain after SIGTERM ran out (`--drain-timeout`): an expected outcome, not a bug.
            context.logger.info("cancelled: the shutdown's drain timeout ended this request", metadata: ["path": .string(request.uri.path)])
            return try ServiceError.shuttingDown.response(from: request, context: context)
        default:
            context.logger.error("unhandled error: \(String(reflecting: error))", metadata: ["path": .string(request.uri.path)])
            return try ServiceError.internalError(requestID: context.requestID).response(from: request, context: context)
        }
    }

    static func serviceError(for error: HTTPError, request: Request) -> ServiceError {
        if error.status == .notFound && error.body == nil {
            return .routeNotFound(request.uri.path)
        }
        let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
        let message = error.body ?? error.status.reasonPhrase
        return ServiceError(error.status, code: code, message: message, headers: error.headers)
    }
}
