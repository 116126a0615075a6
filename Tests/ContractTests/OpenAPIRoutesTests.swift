import CityscapeKit
import CityscapeTestSupport
import Foundation
import Hummingbird
import Testing
import UpstreamKit

@testable import GatewayService
@testable import LocationService
@testable import SunService

/// The document and the router list the same routes, each way round.
///
/// The route list comes from the router itself (Hummingbird's `Router.routes`, after `buildResponder()`
/// has added the automatic HEAD endpoints), not from probing: probing can only find paths someone thought
/// to try, while the trie lists every `METHOD path` a request can reach. Other methods are no routes (the
/// router's `rejectOtherMethods` answers them 405 from its not-found path), so they are in neither list. The
/// live tests then check the answers against the document.
@Suite("OpenAPI documents list exactly the routes of the routers")
struct OpenAPIRoutesTests {
    @Test("location")
    func location() throws {
        let index = try PostalIndex(
            tsv: Array(
                "country_code\tpostal_code\tplace_name\tadmin1\tlatitude\tlongitude\ttimezone_id\nUS\t97227\tPortland\tOregon\t45.5496\t-122.6743\t0\n"
                    .utf8
            ),
            timeZones: ["America/Los_Angeles"]
        )
        let router = LocationService.buildRouter(index: index, server: ServerConfiguration())
        try expectSameRoutes(router, LocationService.PackageResources.openapi_json)
    }

    @Test("sun")
    func sun() throws {
        try expectSameRoutes(SunService.buildRouter(configuration: ServerConfiguration()), SunService.PackageResources.openapi_json)
    }

    @Test("gateway")
    func gateway() throws {
        let metrics = ServiceMetrics()
        let router = GatewayService.buildRouter(
            configuration: GatewayConfiguration(),
            access: NoUpstream(),
            metrics: metrics,
            gatewayMetrics: GatewayMetrics(factory: metrics.factory)
        )
        try expectSameRoutes(router, GatewayService.PackageResources.openapi_json)
    }

    func expectSameRoutes(_ router: Router<CityscapeRequestContext>, _ document: [UInt8]) throws {
        _ = router.buildResponder()
        let routed = Set(router.routes.map { "\($0.method.rawValue) \(OpenAPIDocument.template(fromRouterPath: $0.path.description))" })
        let documented = try OpenAPIDocument(bytes: document).operations
        #expect(routed.subtracting(documented).sorted() == [], "routes the document lacks")
        #expect(documented.subtracting(routed).sorted() == [], "documented operations no route serves")
        #expect(routed.contains("GET /openapi.json"))
    }
}

/// An upstream access that is never reached: these tests only read the route table.
struct NoUpstream: UpstreamAccess {
    func withClient<T: Sendable>(
        clientIsConnected: @Sendable () -> Bool,
        _ body: (_ client: any UpstreamClient, _ queueWait: Duration?) async throws -> T
    ) async throws -> T {
        throw ServiceError(.badGateway, code: "no_upstream", message: "route-table test")
    }
}
