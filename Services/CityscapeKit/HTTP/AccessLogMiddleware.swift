import Foundation
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
        let isPassingProbe = request.uri.path == "/healthz" && status == .ok
        logger.log(
            level: isPassingProbe ? .debug : .info,
            "\(request.method.rawValue) \(request.uri.path) \(status.code) \(Self.milliseconds(elapsed))ms",
            metadata: ["status": .stringConvertible(status.code)]
        )
    }

    static func milliseconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.1f", value)
    }
}
