import CityscapeKit
import Foundation
import Hummingbird

/// `GET /json`: the sunrise-sunset.org compatible endpoint.
struct SunTimesRoutes: Sendable {
    static let path: RouterPath = "/json"
    let clock: @Sendable () -> Date

    func addRoutes(to router: some RouterMethods<CityscapeRequestContext>) {
        router.get(Self.path, use: sunTimes)
    }

    @Sendable func sunTimes(_ request: Request, context: CityscapeRequestContext) throws -> Response {
        // Straight from Hummingbird's parsed parameters (first occurrence wins), no dictionary copy.
        let parameters = request.uri.queryParameters
        let parsed = try SunTimesRequest(query: { parameters[Substring($0)].map(String.init) }, now: clock())
        let day = SolarCalculator.solarDay(latitude: parsed.latitude, longitude: parsed.longitude, on: parsed.date)
        let body = SunTimesResponse(
            results: SunTimesResult(day, formatted: parsed.formatted, timeZone: parsed.timeZone),
            status: SunAPIStatus.ok.rawValue,
            tzid: parsed.requestedTimeZone ?? (parsed.formatted ? nil : "UTC")
        )
        let json = body.render()
        if let callback = parsed.callback {
            let script = Array(callback.utf8) + Array("(".utf8) + json + Array(");".utf8)
            return Response(
                status: .ok,
                headers: [.contentType: "application/javascript; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: script))
            )
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}
