import CityscapeKit
import CityscapeTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOFoundationCompat
import Testing

/// The shared router behaviour every service inherits, exercised on a tiny API.
@Suite("Shared router: errors, request ids, health, metrics, latency")
struct RouterBehaviourTests {
    struct Boom: Error {}

    func makeApplication(latency: Duration = .zero, recorder: LogRecorder = LogRecorder()) -> some ApplicationProtocol {
        let configuration = ServerConfiguration(latency: latency)
        let router = ServiceApplication.makeRouter(service: "cityscape-test", configuration: configuration, metrics: ServiceMetrics()) { api in
            api.get("/api/echo/:word") { _, context in context.parameters.get("word") ?? "" }
            api.get("/api/boom") { _, _ -> String in throw Boom() }
            api.get("/api/teapot") { _, _ -> String in throw ServiceError(.init(code: 418), code: "teapot", message: "short and stout") }
        }
        return ServiceApplication.make(router: router, configuration: configuration, logger: recorder.logger())
    }

    @Test("unknown routes answer 404 in the JSON error shape")
    func notFound() async throws {
        try await makeApplication().test(.router) { client in
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let body = try errorObject(response.body)
                #expect(body["code"] == "not_found")
                #expect(body["message"]?.contains("/nope") == true)
            }
        }
    }

    @Test(
        "any other method on a known path answers 405 with an Allow header, whatever its name",
        arguments: ["POST", "DELETE", "OPTIONS", "QUERY", "BREW"]
    )
    func methodNotAllowed(method: String) async throws {
        let method = try #require(HTTPRequest.Method(method))
        try await makeApplication().test(.router) { client in
            for uri in ["/api/echo/hi", "/healthz", "/metrics"] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == "GET, HEAD")
                    let decoded = try errorObject(response.body)
                    #expect(decoded["code"] == "method_not_allowed")
                }
            }
            try await client.execute(uri: "/api/echo/hi/there", method: method) { response in
                #expect(response.status == .notFound, "a path no route serves stays 404 for \(method)")
            }
        }
    }

    @Test("thrown ServiceErrors keep their status and code; anything else is a logged JSON 500")
    func errors() async throws {
        let recorder = LogRecorder()
        try await makeApplication(recorder: recorder).test(.router) { client in
            try await client.execute(uri: "/api/teapot", method: .get) { response in
                #expect(response.status.code == 418)
                let decoded = try errorObject(response.body)
                #expect(decoded == ["code": "teapot", "message": "short and stout"])
            }
            try await client.execute(uri: "/api/boom", method: .get, headers: [.xRequestID: "boom-1"]) { response in
                #expect(response.status == .internalServerError)
                let body = try errorObject(response.body)
                #expect(body["code"] == "internal_error")
                #expect(body["message"]?.contains("boom-1") == true)
            }
        }
        let errorLines = recorder.recorded.filter { $0.hasPrefix("error") }
        #expect(errorLines.count == 1)
        #expect(errorLines.first?.contains("Boom") == true)
        #expect(errorLines.first?.contains("hb.request.id=boom-1") == true)
    }

    @Test("a sane X-Request-ID is echoed and logged; a missing or hostile one is replaced")
    func requestID() async throws {
        let recorder = LogRecorder()
        try await makeApplication(recorder: recorder).test(.router) { client in
            try await client.execute(uri: "/api/echo/a", method: .get, headers: [.xRequestID: "abc-123"]) { response in
                #expect(response.headers[.xRequestID] == "abc-123")
            }
            try await client.execute(uri: "/api/echo/b", method: .get) { response in
                let generated = try #require(response.headers[.xRequestID])
                #expect(generated.count == 32)
                #expect(generated.allSatisfy { $0.isHexDigit })
            }
            try await client.execute(uri: "/api/echo/c", method: .get, headers: [.xRequestID: "evil\" injected=1"]) { response in
                #expect(response.headers[.xRequestID] != "evil\" injected=1")
                #expect(response.headers[.xRequestID]?.count == 32)
            }
        }
        let accessLines = recorder.recorded.filter { $0.hasPrefix("info GET /api/echo/a 200") }
        #expect(accessLines.count == 1)
        #expect(accessLines.first?.contains("hb.request.id=abc-123") == true)
    }

    @Test("/healthz answers JSON and /metrics counts requests by route and status")
    func healthAndMetrics() async throws {
        try await makeApplication().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let health = try JSONDecoder().decode(HealthReport.self, from: Data(buffer: response.body))
                #expect(health.status == "ok")
                #expect(health.service == "cityscape-test")
            }
            _ = try await client.execute(uri: "/api/echo/x", method: .get)
            _ = try await client.execute(uri: "/api/echo/y", method: .get)
            _ = try await client.execute(uri: "/missing", method: .get)
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"http_requests_total{method="GET",route="/api/echo/{word}",status="200"} 2"#))
                #expect(text.contains(#"http_requests_total{method="GET",route="NotFound",status="404"} 1"#))
                #expect(text.contains("http_request_duration_seconds_bucket"))
                #expect(text.contains("http_requests_in_flight"))
                #expect(text.contains("process_resident_memory_bytes"))
            }
        }
    }

    @Test("--latency delays API routes by at least its value, never health")
    func latency() async throws {
        // Long enough that a health check slower than it means it was delayed, not that the machine is busy.
        let latency = Duration.seconds(2)
        try await makeApplication(latency: latency).test(.router) { client in
            let clock = ContinuousClock()
            let api = try await clock.measure { _ = try await client.execute(uri: "/api/echo/slow", method: .get) }
            let health = try await clock.measure { _ = try await client.execute(uri: "/healthz", method: .get) }
            #expect(api >= latency)
            #expect(health < latency)
        }
    }
}

/// The `error` object of a JSON error body as strings.
func errorObject(_ body: ByteBuffer) throws -> [String: String] {
    let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
    return try #require(object?["error"] as? [String: String])
}
