import CityscapeKit
import Foundation
import Hummingbird
import Logging

/// The composition root of the sun service.
///
/// `clock` is a parameter so tests can pin what `date=today` means.
func buildApplication(configuration: ServerConfiguration, clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger)
    -> some ApplicationProtocol
{
    ServiceApplication.make(router: buildRouter(configuration: configuration, clock: clock), configuration: configuration, logger: logger)
}

/// The router alone, for `.router` tests that need no socket.
func buildRouter(
    configuration: ServerConfiguration,
    clock: @escaping @Sendable () -> Date = { Date() },
    metrics: ServiceMetrics = ServiceMetrics()
) -> Router<CityscapeRequestContext> {
    ServiceApplication.makeRouter(
        service: SunIdentity.name,
        configuration: configuration,
        metrics: metrics,
        openAPIDocument: PackageResources.openapi_json
    ) { api in
        SunTimesRoutes(clock: clock).addRoutes(to: api)
    }
}
