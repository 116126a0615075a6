import CityscapeKit
import Foundation
import Hummingbird

/// `GET /status` on the admin listener: every backend with its state and counters.
struct AdminRoutes: Sendable {
    let pool: BackendPool

    /// The body of `/status`.
    struct Status: ResponseCodable, Sendable {
        var backends: [BackendStatus]
        var healthy: Int
    }

    func addRoutes(to router: some RouterMethods<CityscapeRequestContext>) {
        router.get("/status") { _, _ in
            let backends = pool.snapshot()
            return Status(backends: backends, healthy: backends.filter(\.inRotation).count)
        }
    }
}
