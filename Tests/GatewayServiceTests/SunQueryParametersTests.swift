import Hummingbird
import Testing

@testable import GatewayService

/// The gateway reads `date` and `tz` itself; Hummingbird's `URI.queryParameters` is the reference it must equal.
@Suite("Query parameters read as Hummingbird reads them")
struct SunQueryParametersTests {
    static func request(_ target: String) -> Request {
        Request(head: HTTPRequest(method: .get, scheme: nil, authority: nil, path: target), body: RequestBody(buffer: ByteBuffer()))
    }

    /// What Hummingbird's own parser gives for the two names.
    static func reference(_ target: String) -> SunQueryParameters {
        let parameters = request(target).uri.queryParameters
        return SunQueryParameters(date: parameters["date"].map(String.init), tz: parameters["tz"].map(String.init))
    }

    @Test(
        "targets that probe each rule give what Hummingbird gives",
        arguments: [
            "/api/sun/97227/US", "/api/sun/97227/US?", "/api/sun/97227/US?date=2026-06-21", "/api/sun/97227/US?date=2026-06-21&tz=utc",
            "/p?tz=Europe%2FParis&date=2026%2D06%2d21", "/p?date=a&date=b&tz=c&tz=d", "/p?date=&date=x", "/p?date", "/p?date&tz",
            "/p?d%61te=x&t%7A=y", "/p?DATE=x&Tz=y", "/p?&&date=x&&", "/p?=x&=&date==x=", "/p?date=x%", "/p?date=x%2", "/p?date=%ZZ",
            "/p?date=%%41", "/p?date=%2", "/p?tz=a+b%20c", "/p?date=x#tz=y", "/p#x?date=y", "/p?date=a?b&tz=c?d", "/p?tz=%C3%A9t%C3%A9",
            "/p?tz=%C3", "/p?tz=%FF%FE", "/p?date=é&tz=日本", "/p?dat=x&datex=y&t=z&tzz=w", "/p?date=x#", "/p?#date=x",
            "/p?tz=%00", "http://host:80/api/sun/1/US?date=x&tz=y", "http://host?date=x", "x?y://host/p?date=z", "*",
            "/p?date=" + String(repeating: "%41", count: 40), "/p?tz=America/Argentina/Buenos_Aires&date=2026-06-21",
        ]
    )
    func probes(target: String) {
        #expect(SunQueryParameters(Self.request(target)) == Self.reference(target))
    }

    @Test("many generated queries over the characters that matter give what Hummingbird gives")
    func generated() {
        let pieces = ["date", "tz", "dat", "=", "&", "%", "%2", "%2F", "%41", "%zz", "%C3", "%A9", "+", "#", "?", "a", "9", "-", "é", "/"]
        // A fixed sequence, so a failure names a query that fails every time.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<3000 {
            var query = ""
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            for _ in 0..<(Int(state >> 60) + 1) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                query += pieces[Int(state >> 33) % pieces.count]
            }
            let target = "/api/sun/97227/US?" + query
            #expect(SunQueryParameters(Self.request(target)) == Self.reference(target), "\(target)")
        }
    }
}
