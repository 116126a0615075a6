import CityscapeKit
import Foundation
import HTTPTypes
import Hummingbird
import Metrics

/// `GET /api/sun/{postal_code}/{country}[?date=YYYY-MM-DD][&tz=utc|Area/Location]`.
struct SunRoutes: Sendable {
    static let path: RouterPath = "/api/sun/:postal_code/:country"
    let lookup: SunLookup
    let access: any UpstreamAccess
    let metrics: GatewayMetrics
    let clock: @Sendable () -> Date

    func addRoutes(to router: some RouterMethods<CityscapeRequestContext>) {
        router.get(Self.path, use: sunTimes)
    }

    @Sendable func sunTimes(_ request: Request, context: CityscapeRequestContext) async throws -> Response {
        metrics.inFlight.increment()
        defer { metrics.inFlight.decrement() }
        let timing = ServerTiming()
        do {
            let query: SunQuery
            do {
                query = try Self.query(request, context, now: clock())
            } catch {
                metrics.recordError(cause: "bad_request")
                throw error
            }
            let (answer, finished) = try await access.withClient(clientIsConnected: context.clientIsConnected) { client, queueWait in
                var timing = timing
                if let queueWait { timing.record("queue", queueWait) }
                do throws(ServiceError) {
                    let answer = try await lookup.answer(query, requestID: context.requestID, client: client, timing: &timing)
                    return (answer, timing)
                } catch {
                    var error = error
                    error.headers[.serverTiming] = timing.headerValue()
                    throw error
                }
            }
            return answer.response(serverTiming: finished.headerValue())
        } catch var error as ServiceError {
            if error.headers[.serverTiming] == nil { error.headers[.serverTiming] = timing.headerValue() }
            throw error
        }
    }

    /// Validates the path and query before anything else happens (400 on bad input).
    static func query(_ request: Request, _ context: CityscapeRequestContext, now: Date) throws(ServiceError) -> SunQuery {
        let postal = try context.decodedParameter("postal_code", errorCode: "invalid_postal_code")
        let country = try context.decodedParameter("country", errorCode: "invalid_country")
        let parameters = SunQueryParameters(request)
        return try SunQuery(postalCode: postal, country: country, date: parameters.date, tz: parameters.tz, now: now)
    }
}
