import CityscapeKit
import Foundation
import Hummingbird

/// `GET /status` on the admin listener: the balancing policy and every backend with its state, weights and counters.
struct AdminRoutes: Sendable {
    let pool: BackendPool

    /// The body of `/status`.
    struct Status: ResponseCodable, Sendable {
        var balance: String
        var slowStart: String?
        /// The `--outlier-latency` factor; nil when off.
        var outlierLatency: Double?
        var backends: [BackendStatus]
        var healthy: Int

        enum CodingKeys: String, CodingKey {
            case balance, backends, healthy
            case slowStart = "slow_start"
            case outlierLatency = "outlier_latency"
        }
    }

    func addRoutes(to router: some RouterMethods<CityscapeRequestContext>) {
        router.get("/status") { _, _ in
            let backends = pool.snapshot()
            return Status(
                balance: pool.balance.rawValue,
                slowStart: pool.slowStart.map { DurationParser.format($0.period) },
                outlierLatency: pool.outliers?.factor,
                backends: backends,
                healthy: backends.filter(\.inRotation).count
            )
        }
    }
}
