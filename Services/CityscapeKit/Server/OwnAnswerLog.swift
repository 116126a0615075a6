import HTTPTypes
import HummingbirdCore
import Logging

/// The access line of an answer the server makes itself, below the router (the drain's cut-off, a request it
/// rejects, an error thrown past the router), so that answer can be found in the log by the `X-Request-ID` it
/// carries, like every answer the router makes: the line is `AccessLogMiddleware`'s, the id is assigned by
/// `RequestIDMiddleware`'s rules.
enum OwnAnswerLog {
    /// Writes the line of the answer to the request `method` `target` with id `requestID`.
    static func write(
        requestID: String,
        method: String,
        target: String,
        status: HTTPResponse.Status,
        elapsed: Duration,
        logger: Logger
    ) {
        var logger = logger
        logger[metadataKey: RequestIDMiddleware.metadataKey] = .string(requestID)
        // The path as the router's lines name it (`Request.uri.path`: no query, the path of an absolute-form target).
        let path = URI(target).path
        AccessLogMiddleware.log(method: method, path: path, status: status, elapsed: elapsed, logger: logger)
    }
}
