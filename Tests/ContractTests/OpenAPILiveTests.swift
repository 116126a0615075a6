import CityscapeTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Live processes answer as their documents say, and every documented answer is produced at least once.
///
/// Each service gets a table of GET requests chosen to reach every documented status; each is also sent
/// as HEAD. Every response is checked against the document (status, content type, body schema, headers),
/// then the set of `METHOD path status` seen is compared with the set documented, so a status the document
/// promises but nothing produces fails too. Every other method the HTTP/1 parser knows (`QUERY` included) is
/// sent to every path and must get the shared `MethodNotAllowed` answer with the path's documented methods in
/// `Allow`, and a path no route serves the shared `NotFound`.
@Suite("Live answers conform to the OpenAPI documents", .serialized, .timeLimit(.minutes(3)))
struct OpenAPILiveTests {
    /// A request: the concrete path sent and the document's path template it exercises.
    struct Probe: Sendable {
        let path: String
        let template: String
        let status: Int
    }

    static let otherMethods: [HTTPMethod] = [.POST, .PUT, .PATCH, .DELETE, .OPTIONS, .TRACE, .RAW(value: "QUERY")]

    static let operational = [
        Probe(path: "/healthz", template: "/healthz", status: 200),
        Probe(path: "/metrics", template: "/metrics", status: 200),
        Probe(path: "/openapi.json", template: "/openapi.json", status: 200),
    ]

    @Test("location")
    func location() async throws {
        let location = try await ServiceProcess("cityscape-location")
        let template = "/api/location/{postal_code}/{country}"
        let probes =
            Self.operational + [
                Probe(path: "/api/location/97227/US", template: template, status: 200),
                Probe(path: "/api/location/sw1a%201aa/gb", template: template, status: 200),
                Probe(path: "/api/location/00000/US", template: template, status: 404),
                Probe(path: "/api/location/97227/U1", template: template, status: 400),
                Probe(path: "/api/location/%ZZ/US", template: template, status: 400),
            ]
        try await StartedProcesses([location]).stoppingAll { try await check(location, document: "Location", probes: probes) }
    }

    @Test("sun")
    func sun() async throws {
        let sun = try await ServiceProcess("cityscape-sun")
        let probes =
            Self.operational
            + [
                "lat=45.5&lng=-122.6", "lat=45.5&lng=-122.6&formatted=0", "lat=78.2&lng=15.6&date=2026-06-21&formatted=0&tzid=Europe/Oslo",
                "lat=-89.9&lng=0&date=2026-06-21", "lat=1&lng=2&callback=handle", "lat=.5&lng=180.000&date=2024-2-29&tzid=UTC",
                "lat=1&lng=2&date=&formatted=&tzid=&callback=",
            ].map { Probe(path: "/json?\($0)", template: "/json", status: 200) }
            + [
                "lat=x&lng=1", "lng=1", "lat=1&lng=2&date=2023-02-30", "lat=1&lng=2&tzid=Mars/Base", "lat=1&lng=2&formatted=2",
                "lat=1&lng=2&callback=alert(1)", "lat=90.01&lng=0", "lat=1&lng=2&date=TODAY", "lat=1&lng=2&tzid=US/Pacific",
            ].map { Probe(path: "/json?\($0)", template: "/json", status: 400) }
        try await StartedProcesses([sun]).stoppingAll { try await check(sun, document: "Sun", probes: probes) }
    }

    @Test("gateway, with its upstream faults: refused (502), silent (504), at capacity (503)")
    func gateway() async throws {
        async let locationStarted = ServiceProcess("cityscape-location")
        async let sunStarted = ServiceProcess("cityscape-sun")
        async let slowSunStarted = ServiceProcess("cityscape-sun", arguments: ["--latency", "1s"])
        let (location, sun, slowSun) = try await (locationStarted, sunStarted, slowSunStarted)
        let silent = try SilentListener()
        func gateway(sun: String, _ extra: [String] = []) async throws -> ServiceProcess {
            try await ServiceProcess("cityscape-gateway", arguments: ["--location-url", location.baseURL, "--sun-url", sun] + extra)
        }
        let started = StartedProcesses([location, sun, slowSun])
        defer { silent.close() }
        try await started.stoppingAll {
            let healthy = started.add(try await gateway(sun: sun.baseURL))
            let refused = started.add(try await gateway(sun: "http://127.0.0.1:1"))
            let hung = started.add(try await gateway(sun: "http://127.0.0.1:\(silent.port)", ["--upstream-timeout", "300ms"]))
            let tight = started.add(try await gateway(sun: slowSun.baseURL, ["--max-in-flight", "1"]))
            try await checkGateway(healthy: healthy, refused: refused, hung: hung, tight: tight)
        }
    }

    func checkGateway(healthy: ServiceProcess, refused: ServiceProcess, hung: ServiceProcess, tight: ServiceProcess) async throws {
        let template = "/api/sun/{postal_code}/{country}"
        let probes =
            Self.operational + [
                Probe(path: "/api/sun/97227/US?date=2026-06-21", template: template, status: 200),
                Probe(path: "/api/sun/9171/SJ?date=2026-06-21", template: template, status: 200),
                Probe(path: "/api/sun/00000/US", template: template, status: 404),
                Probe(path: "/api/sun/97227/U1", template: template, status: 400),
                Probe(path: "/api/sun/97227/US?date=2026-13-01", template: template, status: 400),
                Probe(path: "/api/sun/97227/US?date=2026-06-21&tz=utc", template: template, status: 200),
                Probe(path: "/api/sun/75001/FR?date=2026-10-25&tz=Asia/Kolkata", template: template, status: 200),
                // The place's own zone, Asia/Kolkata, is a canonical IANA name that ICU's list lacks.
                Probe(path: "/api/sun/110001/IN?date=2026-10-25", template: template, status: 200),
                Probe(path: "/api/sun/75001/FR?date=2026-10-25&tz=Etc/GMT-5", template: template, status: 200),
                Probe(path: "/api/sun/97227/US?tz=Mars/Base", template: template, status: 400),
            ]
        var seen = try await check(healthy, document: "Gateway", probes: probes, finish: false)
        let conformance = try conformance("Gateway")
        for (process, status) in [(refused, 502), (hung, 504)] {
            for method in [HTTPMethod.GET, .HEAD] {
                let response = try await LiveHTTP.request("\(process.baseURL)/api/sun/97227/US", method: method)
                #expect(response.status == status)
                #expect(conformance.problems(method: method.rawValue, template: template, response) == [])
                seen.insert("\(method.rawValue) \(template) \(response.status)")
            }
        }
        // One slow request holds the only admission slot; a GET and a HEAD behind it are shed.
        async let holder = LiveHTTP.request("\(tight.baseURL)/api/sun/97227/US")
        try await eventually { try await LiveHTTP.metric("gateway_requests_in_flight", at: "\(tight.baseURL)/metrics") == 1 }
        for method in [HTTPMethod.GET, .HEAD] {
            let response = try await LiveHTTP.request("\(tight.baseURL)/api/sun/97227/US", method: method)
            #expect(response.status == 503)
            #expect(conformance.problems(method: method.rawValue, template: template, response) == [])
            seen.insert("\(method.rawValue) \(template) \(response.status)")
        }
        #expect(try await holder.status == 200)
        #expect(seen == (try document("Gateway").documentedStatuses))
    }

    // MARK: Helpers

    /// Sends every probe as GET and HEAD and every other method once per path, checks each answer, and
    /// (unless `finish` is false) compares the statuses seen for the documented operations with theirs.
    @discardableResult
    func check(_ process: ServiceProcess, document name: String, probes: [Probe], finish: Bool = true) async throws -> Set<String> {
        let conformance = try conformance(name)
        var seen: Set<String> = []
        var problems: [String] = []
        for probe in probes {
            for method in [HTTPMethod.GET, .HEAD] {
                let response = try await LiveHTTP.request(process.baseURL + probe.path, method: method)
                if response.status != probe.status {
                    problems.append("\(method.rawValue) \(probe.path): \(response.status), expected \(probe.status)")
                }
                problems += conformance.problems(method: method.rawValue, template: probe.template, response)
                seen.insert("\(method.rawValue) \(probe.template) \(response.status)")
            }
        }
        let allow = try document(name)
        for template in Set(probes.map(\.template)) {
            let sample = probes.first { $0.template == template }!
            let expected = allow.allowedMethods(path: template).joined(separator: ", ")
            for method in Self.otherMethods {
                let response = try await LiveHTTP.request(process.baseURL + sample.path, method: method)
                if response.status != 405 { problems.append("\(method.rawValue) \(sample.path): \(response.status), expected 405") }
                if response.headers.first(name: "allow") != expected {
                    problems.append("\(method.rawValue) \(sample.path): Allow is not '\(expected)'")
                }
                problems += conformance.problems(shared: "MethodNotAllowed", headers: response.headers, body: response.body)
            }
        }
        let unknown = try await LiveHTTP.request(process.baseURL + "/no/such/path", method: .POST)
        if unknown.status != 404 { problems.append("POST /no/such/path: \(unknown.status), expected 404") }
        problems += conformance.problems(shared: "NotFound", headers: unknown.headers, body: unknown.body)
        #expect(problems == [])
        let served = try await LiveHTTP.request(process.baseURL + "/openapi.json")
        #expect(served.body == (try Self.documentBytes(name)), "/openapi.json is the document kept in the repository")
        if finish { #expect(seen == (try document(name).documentedStatuses)) }
        return seen
    }

    func conformance(_ name: String) throws -> ResponseConformance { ResponseConformance(document: try document(name)) }

    func document(_ name: String) throws -> OpenAPIDocument { try OpenAPIDocument(bytes: try Self.documentBytes(name)) }

    static func documentBytes(_ name: String) throws -> [UInt8] {
        let url = BuildProducts.repositoryRoot.appendingPathComponent("Services/\(name)/API/openapi.json")
        return [UInt8](try Data(contentsOf: url))
    }
}

/// The processes a test started, stopped (awaited) when its body ends, also when it throws.
///
/// Awaited on purpose: with `defer { Task { await process.stop() } }` the task may never run before the
/// test process exits, and it keeps the processes alive past their SIGKILL-ing deinit: they are orphaned.
final class StartedProcesses {
    private var processes: [ServiceProcess]

    init(_ processes: [ServiceProcess]) { self.processes = processes }

    func add(_ process: ServiceProcess) -> ServiceProcess {
        processes.append(process)
        return process
    }

    func stoppingAll(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            for process in processes { await process.stop() }
            throw error
        }
        for process in processes { await process.stop() }
    }
}
