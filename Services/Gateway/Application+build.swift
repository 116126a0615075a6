import CityscapeKit
import Foundation
import Hummingbird
import Logging
import Metrics
import ServiceLifecycle
import UpstreamKit

/// The composition root of the gateway: the only place that picks and builds the transport.
///
/// `clock` is a parameter so tests can pin what "today" means when no date is given.
func buildApplication(configuration: GatewayConfiguration, clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger)
    -> some ApplicationProtocol
{
    let metrics = ServiceMetrics()
    let gatewayMetrics = GatewayMetrics(factory: metrics.factory)
    let (access, service) = makeUpstreamAccess(configuration: configuration, metrics: gatewayMetrics)
    let router = buildRouter(configuration: configuration, access: access, metrics: metrics, gatewayMetrics: gatewayMetrics, clock: clock)
    logger.info(
        "mode \(configuration.mode.rawValue): location \(configuration.locationURL), sun \(configuration.sunURL), \(modeSummary(configuration))"
    )
    return ServiceApplication.make(router: router, configuration: configuration.server, services: [service], logger: logger)
}

/// The router alone, for `.router` tests with a fake transport.
func buildRouter(
    configuration: GatewayConfiguration,
    access: any UpstreamAccess,
    metrics: ServiceMetrics,
    gatewayMetrics: GatewayMetrics,
    clock: @escaping @Sendable () -> Date = { Date() }
) -> Router<CityscapeRequestContext> {
    let lookup = SunLookup(configuration: configuration, metrics: gatewayMetrics)
    return ServiceApplication.makeRouter(
        service: GatewayIdentity.name,
        configuration: configuration.server,
        metrics: metrics,
        healthDetails: configuration.mode == .blocking ? ["workers": configuration.workers] : ["max_in_flight": configuration.maxInFlight],
        openAPIDocument: PackageResources.openapi_json
    ) { api in
        SunRoutes(lookup: lookup, access: access, metrics: gatewayMetrics, clock: clock).addRoutes(to: api)
    }
}

/// The transport of the configured mode, and the `Service` that owns its resources (client or threads).
func makeUpstreamAccess(configuration: GatewayConfiguration, metrics: GatewayMetrics) -> (any UpstreamAccess, any Service) {
    switch configuration.mode {
    case .async:
        let client = HTTPClientUpstream(
            configuration: .init(
                connectTimeout: configuration.upstreamTimeout,
                // One connection per admitted request and upstream, so the client never queues a request internally.
                connectionsPerHost: configuration.maxInFlight,
                caFile: configuration.caFile
            )
        )
        return (AsyncAccess(client: client, maxInFlight: configuration.maxInFlight, metrics: metrics), client)
    case .blocking:
        let queueDepth = metrics.queueDepth
        let pool = CurlWorkerPool(threads: configuration.workers, queueLimit: configuration.queueLimit, caFile: configuration.caFile) { depth in
            queueDepth.set(Int64(depth))
        }
        return (BlockingAccess(pool: pool, metrics: metrics), pool)
    }
}

private func modeSummary(_ configuration: GatewayConfiguration) -> String {
    let cache = configuration.cacheTTL > .zero ? "cache \(DurationParser.format(configuration.cacheTTL)) × \(configuration.cacheSize)" : "no cache"
    let timeout = "timeout \(DurationParser.format(configuration.upstreamTimeout))"
    switch configuration.mode {
    case .async: return "max in flight \(configuration.maxInFlight), \(timeout), \(cache)"
    case .blocking: return "\(configuration.workers) workers, queue limit \(configuration.queueLimit), \(timeout), \(cache)"
    }
}
