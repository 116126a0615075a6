import CityscapeKit
import Foundation
import Hummingbird
import Logging

/// The composition root of the location service: the only place that loads data and wires routes.
///
/// Takes an already built index when given one, so tests share one loaded table across many apps.
func buildApplication(configuration: LocationConfiguration, index: PostalIndex? = nil, logger: Logger) throws -> some ApplicationProtocol {
    let index = try index ?? timedLoad(configuration.postalDataURL, logger: logger)
    let router = buildRouter(index: index, server: configuration.server)
    return ServiceApplication.make(router: router, configuration: configuration.server, logger: logger)
}

/// The router alone, for `.router` tests that need no socket.
func buildRouter(index: PostalIndex, server: ServerConfiguration, metrics: ServiceMetrics = ServiceMetrics()) -> Router<CityscapeRequestContext> {
    ServiceApplication.makeRouter(
        service: LocationIdentity.name,
        configuration: server,
        metrics: metrics,
        healthDetails: ["postal_codes": index.count, "countries": index.countryCount],
        openAPIDocument: PackageResources.openapi_json
    ) { api in
        LocationRoutes(index: index).addRoutes(to: api)
    }
}

private func timedLoad(_ url: URL, logger: Logger) throws -> PostalIndex {
    let start = ContinuousClock.now
    let index = try loadPostalIndex(from: url)
    logger.info(
        "loaded \(index.count) postal codes for \(index.countryCount) countries from \(url.path) in \(ContinuousClock.now - start)"
    )
    return index
}
