public import Hummingbird
import Logging

/// Writes one `info` line per request once its response is ready: method, path, status, duration.
/// A passing `GET /healthz` is logged at `debug`: proxies and orchestrators probe it every second or
/// so, and those lines would bury the traffic the log is for.
///
/// Sits inside `RequestIDMiddleware`, so the line carries the request id like every other line of
/// the request. Duration is measured to the response head, not to the last body byte: for the small
/// JSON bodies these services send the two are the same.
public struct AccessLogMiddleware: RouterMiddleware {
    public typealias Context = CityscapeRequestContext

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        Self.log(request, status: response.status, elapsed: ContinuousClock.now - start, logger: context.logger)
        return response
    }

    /// Writes the line of one answered request.
    static func log(_ request: Request, status: HTTPResponse.Status, elapsed: Duration, logger: Logger) {
        log(method: request.method.rawValue, path: request.uri.path, status: status, elapsed: elapsed, logger: logger)
    }

    /// Writes the line of one answered request: the one format of every access line, whether the router answered
    /// (this middleware) or the server itself (`RouterServer`'s answers below the router).
    static func log(method: String, path: String, status: HTTPResponse.Status, elapsed: Duration, logger: Logger) {
        let isPassingProbe = path == "/healthz" && status == .ok
        let code = String(status.code)
        logger.log(
            level: isPassingProbe ? .debug : .info,
            "\(method) \(path) \(code) \(elapsed.millisecondsText)ms",
            metadata: ["status": .string(code)]
        )
    }
}
