import CityscapeKit
import CityscapeTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// The connection guard's answers, given before any route, match the shared responses every document
/// describes (`BadRequest`, `RequestTimeout`, `HeaderTooLarge`, `BodyTooLarge`, `Unavailable`).
///
/// Every answer is rendered the way `ClientConnectionHandler` writes it (`http1Response(closing: true)`), and
/// the drain's `shutting_down` the way the error middleware does; the ones a request can provoke quickly (a
/// missing `Host`, an unknown method token, an oversized head, a declared body over the limit) are also taken from
/// a live service. The 408 (a 10 s header timeout) and the 503s (10,000 connections, a shutdown) are only rendered
/// here.
@Suite("Connection-level answers conform to the shared responses of every document", .serialized)
struct ConnectionAnswersTests {
    static let answers: [(name: String, status: Int, error: ServiceError)] = [
        ("BadRequest", 400, .malformedRequest("invalid HTTP method")),
        ("BadRequest", 400, .hostRule(hostCount: 0, isHTTP10: false)!),
        ("BadRequest", 400, .hostRule(hostCount: 2, isHTTP10: false)!),
        ("RequestTimeout", 408, .requestHeadTimeout(.seconds(10))),
        ("HeaderTooLarge", 431, .headerTooLarge()),
        ("BodyTooLarge", 413, .bodyTooLarge(limit: 1 << 20)),
        ("Unavailable", 503, .tooManyConnections(limit: 10_000)),
        ("Unavailable", 503, .shuttingDown),
    ]

    @Test("location, sun and gateway", arguments: ["Location", "Sun", "Gateway"])
    func answers(document name: String) throws {
        let conformance = ResponseConformance(document: try OpenAPIDocument(bytes: try OpenAPILiveTests.documentBytes(name)))
        for answer in Self.answers {
            let (head, body) = answer.error.http1Response(closing: true)
            #expect(Int(head.status.code) == answer.status, "\(answer.error.code)")
            #expect(conformance.problems(shared: answer.name, headers: head.headers, body: Array(buffer: body)) == [])
        }
    }

    @Test("live: no Host and an unknown method get 400, an oversized head 431, a declared body over 1 MiB 413, each as documented")
    func live() async throws {
        let location = try await ServiceProcess("cityscape-location")
        try await StartedProcesses([location]).stoppingAll {
            let conformance = ResponseConformance(document: try OpenAPIDocument(bytes: try OpenAPILiveTests.documentBytes("Location")))
            let big = String(repeating: "h", count: 200_000)
            let requests: [(name: String, status: Int, code: String, request: String)] = [
                ("BadRequest", 400, "bad_request", "GET /healthz HTTP/1.1\r\n\r\n"),
                ("BadRequest", 400, "bad_request", "BREW /healthz HTTP/1.1\r\nHost: a\r\n\r\n"),
                ("HeaderTooLarge", 431, "header_too_large", "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: \(big)\r\n\r\n"),
                ("BodyTooLarge", 413, "body_too_large", "GET /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n"),
            ]
            for probe in requests {
                let answer = try await RawAnswer.exchange(port: location.port, Array(probe.request.utf8))
                #expect(answer.status == probe.status, "\(probe.request.prefix(30))")
                #expect(String(decoding: answer.body, as: UTF8.self).contains(#""code":"\#(probe.code)""#))
                #expect(conformance.problems(shared: probe.name, headers: answer.headers, body: answer.body) == [])
            }
        }
    }
}
