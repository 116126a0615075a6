import Foundation
import Hummingbird

/// One backend as `/status` shows it.
struct BackendStatus: ResponseCodable, Sendable, Equatable {
    /// The latest active check.
    struct Check: Codable, Sendable, Equatable {
        /// ISO 8601, UTC.
        var at: String
        var passed: Bool
        var detail: String?
    }

    var address: String
    var state: String
    var inRotation: Bool
    /// The configured weight.
    var weight: Int
    /// The weight the balancer uses now: below `weight` while a slow start ramps it up.
    var effectiveWeight: Double
    var inFlight: Int
    var requests: Int
    var failures: Int
    var lastCheck: Check?
    /// The EWMA of its response times (to the response head) while outlier ejection is on; nil before the first.
    var latencyMilliseconds: Double?
    /// Out of rotation for being much slower than the others.
    var latencyEjected = false
    /// Times it was ejected for latency.
    var latencyEjections = 0

    enum CodingKeys: String, CodingKey {
        case address, state, weight, requests, failures
        case inRotation = "in_rotation"
        case effectiveWeight = "effective_weight"
        case inFlight = "in_flight"
        case lastCheck = "last_check"
        case latencyMilliseconds = "latency_ewma_ms"
        case latencyEjected = "latency_ejected"
        case latencyEjections = "latency_ejections"
    }
}
