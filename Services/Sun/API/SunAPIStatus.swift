import CityscapeKit
import HTTPTypes

/// The `status` values of the sunrise-sunset.org API, and how each failure is answered.
///
/// Failures keep the original API's body shape (`{"results":"","status":"INVALID_DATE"}`) so its clients
/// keep working, and add Cityscape's `error` object with a message saying what was wrong.
enum SunAPIStatus: String, Sendable {
    case ok = "OK"
    case invalidRequest = "INVALID_REQUEST"
    case invalidDate = "INVALID_DATE"
    case invalidTimeZone = "INVALID_TZID"
    case unknownError = "UNKNOWN_ERROR"

    /// The error for this status with a human `message`.
    func error(_ message: String) -> ServiceError {
        ServiceError(
            self == .unknownError ? .internalServerError : .badRequest,
            code: rawValue.lowercased(),
            message: message,
            extraFields: ["results": "", "status": rawValue]
        )
    }
}
