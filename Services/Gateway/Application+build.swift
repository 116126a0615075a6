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
    let (access, service, limit) = makeUpstreamAccess(configuration: configuration, metrics: gatewayMetrics)
    let router = buildRouter(
        configuration: configuration,
        access: access,
        metrics: metrics,
        gatewayMetrics: gatewayMetrics,
        limit: limit,
        clock: clock
    )
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
    limit: AdmissionLimit? = nil,
    clock: @escaping @Sendable () -> Date = { Date() }
) -> Router<CityscapeRequestContext> {
    let lookup = SunLookup(configuration: configuration, metrics: gatewayMetrics)
    let details = healthDetails(configuration, limit: limit)
    return ServiceApplication.makeRouter(
        service: GatewayIdentity.name,
        configuration: configuration.server,
        metrics: metrics,
        healthDetails: details(),
        openAPIDocument: PackageResources.openapi_json
    ) { api in
        SunRoutes(lookup: lookup, access: access, metrics: gatewayMetrics, clock: clock).addRoutes(to: api)
    }
}

/// The transport of the configured mode, the `Service` that owns its resources (client or threads), and
/// the admission limit (async: requests in flight; blocking: requests waiting for a worker).
func makeUpstreamAccess(configuration: GatewayConfiguration, metrics: GatewayMetrics) -> (any UpstreamAccess, any Service, AdmissionLimit) {
    switch configuration.mode {
    case .async:
        let limit = AdmissionLimit(
            setting: configuration.maxInFlight,
            parameters: AdaptiveLimit.Parameters(
                floor: AdaptiveLimit.inFlightFloor,
                ceiling: configuration.maxInFlightCeiling,
                initial: AdaptiveLimit.inFlightStart
            ),
            gauge: metrics.inFlightLimit
        )
        let settings = HTTPClientUpstream.Configuration(
            connectTimeout: configuration.upstreamTimeout,
            // One connection per admitted request and upstream, so the client never queues a request internally.
            connectionsPerHost: configuration.inFlightBound,
            caFile: configuration.caFile
        )
        // Plain HTTP on the serving event loops; AsyncHTTPClient only for `https://` upstreams.
        let client = EventLoopUpstream(configuration: settings)
        return (AsyncAccess(client: client, limit: limit, metrics: metrics), client, limit)
    case .blocking:
        let queueDepth = metrics.queueDepth
        let queueLimit: Int
        switch configuration.queueLimit {
        case .fixed(let value): queueLimit = value
        // The controller starts from one waiting request per worker and moves from there.
        case .auto: queueLimit = configuration.workers
        }
        let pool = CurlWorkerPool(threads: configuration.workers, queueLimit: queueLimit, caFile: configuration.caFile) { depth in
            queueDepth.set(Int64(depth))
        }
        // In blocking mode the in-flight limit is the workers plus the queue, so the one gauge means the same in both modes.
        let workers = configuration.workers
        let inFlightLimit = metrics.inFlightLimit
        inFlightLimit.set(Int64(workers + queueLimit))
        let limit = AdmissionLimit(
            setting: configuration.queueLimit,
            parameters: AdaptiveLimit.Parameters(floor: 1, ceiling: configuration.maxInFlightCeiling, initial: queueLimit),
            gauge: metrics.queueLimit
        ) { [weak pool] next in
            pool?.setQueueLimit(next)
            inFlightLimit.set(Int64(workers + next))
        }
        return (BlockingAccess(pool: pool, queueLimit: limit, metrics: metrics), pool, limit)
    }
}

private func modeSummary(_ configuration: GatewayConfiguration) -> String {
    let cache = configuration.cacheTTL > .zero ? "cache \(DurationParser.format(configuration.cacheTTL)) × \(configuration.cacheSize)" : "no cache"
    let timeout = "timeout \(DurationParser.format(configuration.upstreamTimeout))"
    let ceiling = "ceiling \(configuration.maxInFlightCeiling)"
    switch configuration.mode {
    case .async:
        return configuration.maxInFlight == .auto
            ? "max in flight auto (\(ceiling)), \(timeout), \(cache)" : "max in flight \(configuration.maxInFlight), \(timeout), \(cache)"
    case .blocking:
        let queue = configuration.queueLimit == .auto ? "auto (\(ceiling))" : "\(configuration.queueLimit)"
        return "\(configuration.workers) workers, queue limit \(queue), \(timeout), \(cache)"
    }
}

/// `/healthz` details: the worker count or the in-flight limit as it is now, and the queue limit when it adapts.
private func healthDetails(_ configuration: GatewayConfiguration, limit: AdmissionLimit?) -> @Sendable () -> [String: Int] {
    switch configuration.mode {
    case .async:
        let fixed = configuration.inFlightBound
        return { ["max_in_flight": limit?.value ?? fixed] }
    case .blocking:
        let workers = configuration.workers
        return { limit.map { ["workers": workers, "queue_limit": $0.value] } ?? ["workers": workers] }
    }
}
