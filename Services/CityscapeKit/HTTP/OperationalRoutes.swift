import Foundation
public import Hummingbird

/// `GET /healthz` and `GET /metrics`: the routes every service has, never delayed by `--latency`.
public struct OperationalRoutes: Sendable {
    let service: String
    let metrics: ServiceMetrics
    let details: @Sendable () -> [String: Int]
    let startedAt = ContinuousClock.now

    /// - Parameter details: figures worth seeing in a health check, e.g. how many postal codes are loaded;
    ///   evaluated on every check, so a figure that changes (an adaptive limit) is shown as it is now.
    public init(service: String, metrics: ServiceMetrics, details: @escaping @autoclosure @Sendable () -> [String: Int] = [:]) {
        self.service = service
        self.metrics = metrics
        self.details = details
    }

    public func addRoutes(to router: some RouterMethods<CityscapeRequestContext>) {
        router.get("/healthz") { _, _ in health() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render()))
            )
        }
    }

    func health() -> HealthReport {
        let uptime = ContinuousClock.now - startedAt
        let details = details()
        return HealthReport(
            status: "ok",
            service: service,
            uptimeSeconds: Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18,
            details: details.isEmpty ? nil : details
        )
    }
}

/// The body of `/healthz`.
public struct HealthReport: ResponseCodable, Sendable, Equatable {
    public let status: String
    public let service: String
    public let uptimeSeconds: Double
    public let details: [String: Int]?

    enum CodingKeys: String, CodingKey {
        case status, service, details
        case uptimeSeconds = "uptime_seconds"
    }
}
