import AsyncHTTPClient
import CityscapeTestSupport
import Foundation
import NIOHTTP1
import Testing

/// `cityscape-proxy` as users run it, in front of real `cityscape-sun` processes: faults, signals, reload.
@Suite("Live proxy: cityscape-proxy in front of cityscape-sun processes", .serialized)
struct ProxyLiveTests {
    /// Starts `count` sun backends and the proxy over them (admin on port 0 too).
    static func stack(backends count: Int, sunArguments: [String] = [], proxyArguments: [String] = []) async throws -> (
        proxy: ServiceProcess, backends: [ServiceProcess]
    ) {
        var backends: [ServiceProcess] = []
        for _ in 0..<count { backends.append(try await ServiceProcess("cityscape-sun", arguments: sunArguments)) }
        let flags = backends.flatMap { ["--backend", "127.0.0.1:\($0.port)"] }
        let proxy = try await ServiceProcess(
            "cityscape-proxy",
            arguments: flags + ["--admin", "127.0.0.1:0", "--health-interval", "200ms", "--connect-timeout", "500ms"] + proxyArguments
        )
        return (proxy, backends)
    }

    /// `workers` keep-alive clients sending GETs until `duration` is over; returns every status seen (0 = transport error).
    static func load(_ url: String, workers: Int, duration: Duration, during: @escaping @Sendable () async throws -> Void = {}) async throws -> [Int]
    {
        let deadline = ContinuousClock.now + duration
        return try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var statuses: [Int] = []
                    while ContinuousClock.now < deadline {
                        do {
                            statuses.append(try await LiveHTTP.request(url, timeout: .seconds(10)).status)
                        } catch {
                            statuses.append(0)
                        }
                    }
                    return statuses
                }
            }
            group.addTask {
                try await during()
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    @Test("killing 1 of 3 backends during a GET load gives zero client-visible errors", .timeLimit(.minutes(2)))
    func killOneOfThree() async throws {
        let (proxy, backends) = try await Self.stack(backends: 3)
        defer { Task { for process in [proxy] + backends { await process.stop() } } }
        let statuses = try await Self.load("\(proxy.baseURL)/json?lat=10&lng=10", workers: 8, duration: .seconds(3)) {
            try await Task.sleep(for: .seconds(1))
            backends[1].send(SIGKILL)
        }
        let errors = statuses.filter { $0 != 200 }
        #expect(statuses.count > 30, "load too small to mean anything: \(statuses.count)")
        #expect(errors.isEmpty, "\(errors.count) errors of \(statuses.count): \(Set(errors))")
        #expect(proxy.output().contains("-> ejected"))
    }

    @Test("a restarted backend is back in rotation after passing a health check", .timeLimit(.minutes(2)))
    func restartedBackendReturns() async throws {
        let (proxy, backends) = try await Self.stack(backends: 2)
        defer { Task { for process in [proxy] + backends { await process.stop() } } }
        let port = backends[1].port
        backends[1].send(SIGKILL)
        _ = await backends[1].waitForExit()
        let adminURL = try await Self.adminURL(proxy)
        try await eventually { try await Self.state(adminURL, port: port) == "ejected" }
        let restarted = try await ServiceProcess("cityscape-sun", arguments: ["--port", "\(port)"])
        defer { Task { await restarted.stop() } }
        // Back after its first passing check (rise 1; the state machine's unit tests count the checks), not after
        // a penalty period. How long that takes is a benchmark figure, not a pass/fail one.
        try await eventually(timeout: .seconds(10)) { try await Self.state(adminURL, port: port) == "healthy" }
        for _ in 0..<4 { _ = try await LiveHTTP.request("\(proxy.baseURL)/json?lat=1&lng=1") }
        try await eventually { restarted.output().contains("GET /json 200") }
    }

    @Test("SIGTERM under load: every accepted request completes, then exit 0", .timeLimit(.minutes(2)))
    func drainOnSigterm() async throws {
        let (proxy, backends) = try await Self.stack(backends: 2, sunArguments: ["--latency", "2s"], proxyArguments: ["--drain-timeout", "5s"])
        defer { Task { for backend in backends { await backend.stop() } } }
        let url = "\(proxy.baseURL)/json?lat=10&lng=10"
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await LiveHTTP.request(url).status } }
            // Signal only once all 8 were accepted and are in flight: requests still queued in the kernel
            // when the listener closes are not "accepted" (see the report on the idle-connection race).
            let adminURL = try await Self.adminURL(proxy)
            try await eventually { try await Self.inFlight(adminURL) >= 8 }
            proxy.send(SIGTERM)
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 8))
        #expect(await proxy.waitForExit() == 0)
    }

    @Test("SIGTERM under keep-alive load: no request dropped on an established connection, exit 0", .timeLimit(.minutes(2)))
    func noDropsOnSigterm() async throws {
        let (proxy, backends) = try await Self.stack(backends: 2)
        defer { Task { for backend in backends { await backend.stop() } } }
        let outcome = try await KeepAliveLoad.run(port: proxy.port, path: "/json?lat=10&lng=10", connections: 16, duration: .seconds(30)) {
            try await Task.sleep(for: .seconds(1.5))
            proxy.send(SIGTERM)
        }
        #expect(outcome.succeeded > 50, "load too small to mean anything: \(outcome.succeeded)")
        #expect(outcome.dropped.isEmpty, "\(outcome.dropped.count) dropped, e.g. \(outcome.dropped.prefix(3))")
        #expect(outcome.statuses.allSatisfy { $0 == 200 })
        #expect(outcome.closedGracefully == 16, "every connection should end with a response saying Connection: close")
        #expect(await proxy.waitForExit() == 0)
    }

    @Test("SIGHUP reloads under keep-alive load drop nothing, also when a backend leaves and returns", .timeLimit(.minutes(2)))
    func noDropsOnReload() async throws {
        let first = try await ServiceProcess("cityscape-sun")
        let second = try await ServiceProcess("cityscape-sun")
        defer { Task { for process in [first, second] { await process.stop() } } }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("backends-\(UUID().uuidString).txt")
        let both = "127.0.0.1:\(first.port)\n127.0.0.1:\(second.port)\n"
        try both.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let proxy = try await ServiceProcess("cityscape-proxy", arguments: ["--backends-file", file.path, "--admin", "off"])
        defer { Task { await proxy.stop() } }
        let outcome = try await KeepAliveLoad.run(port: proxy.port, path: "/json?lat=10&lng=10", connections: 16, duration: .seconds(4)) {
            for list in ["127.0.0.1:\(first.port)\n", both, both] {
                try await Task.sleep(for: .milliseconds(800))
                try list.write(to: file, atomically: true, encoding: .utf8)
                proxy.send(SIGHUP)
            }
        }
        #expect(outcome.succeeded > 50, "load too small to mean anything: \(outcome.succeeded)")
        #expect(outcome.dropped.isEmpty && outcome.closedGracefully == 0, "\(outcome.dropped.count) dropped, \(outcome.closedGracefully) closed")
        #expect(outcome.statuses.allSatisfy { $0 == 200 })
        #expect(proxy.isRunning)
        #expect(proxy.output().components(separatedBy: "backends reloaded").count - 1 == 3)
    }

    @Test("SIGHUP re-reads --backends-file; the new backend gets traffic", .timeLimit(.minutes(2)))
    func reloadOnSighup() async throws {
        let first = try await ServiceProcess("cityscape-sun")
        let second = try await ServiceProcess("cityscape-sun")
        defer { Task { for process in [first, second] { await process.stop() } } }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("backends-\(UUID().uuidString).txt")
        try "# one backend\n127.0.0.1:\(first.port)\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let proxy = try await ServiceProcess("cityscape-proxy", arguments: ["--backends-file", file.path, "--admin", "off"])
        defer { Task { await proxy.stop() } }
        try "127.0.0.1:\(first.port)\n127.0.0.1:\(second.port)\n".write(to: file, atomically: true, encoding: .utf8)
        proxy.send(SIGHUP)
        try await eventually { proxy.output().contains("backends reloaded") }
        for _ in 0..<4 { #expect(try await LiveHTTP.request("\(proxy.baseURL)/json?lat=1&lng=1").status == 200) }
        try await eventually { second.output().contains("GET /json 200") }
    }

    @Test("SIGHUP without --backends-file is logged and changes nothing: the proxy keeps serving", .timeLimit(.minutes(2)))
    func sighupWithoutBackendsFile() async throws {
        let backend = try await ServiceProcess("cityscape-sun")
        defer { Task { await backend.stop() } }
        let proxy = try await ServiceProcess("cityscape-proxy", arguments: ["--backend", "127.0.0.1:\(backend.port)", "--admin", "off"])
        defer { Task { await proxy.stop() } }
        proxy.send(SIGHUP)
        try await eventually { proxy.output().contains("no --backends-file to re-read") }
        #expect(proxy.isRunning)
        #expect(try await LiveHTTP.request("\(proxy.baseURL)/json?lat=1&lng=1").status == 200)
    }

    /// The admin URL from the proxy's `admin at` line, which may follow its `listening on` line.
    static func adminURL(_ proxy: ServiceProcess) async throws -> String {
        func parse() -> String? {
            let log = proxy.output()
            guard let range = log.range(of: #"admin at http://[^\s]+:\d+"#, options: .regularExpression) else { return nil }
            return String(log[range].dropFirst("admin at ".count))
        }
        try await eventually { parse() != nil }
        return parse() ?? ""
    }

    /// `proxy_requests_in_flight` from the admin `/metrics`.
    static func inFlight(_ adminURL: String) async throws -> Int {
        Int(try await LiveHTTP.metric("proxy_requests_in_flight", at: "\(adminURL)/metrics") ?? 0)
    }

    static func state(_ adminURL: String, port: Int) async throws -> String? {
        let status = try await LiveHTTP.request("\(adminURL)/status").json()
        let backends = status["backends"] as? [[String: Any]] ?? []
        return backends.first { ($0["address"] as? String) == "127.0.0.1:\(port)" }?["state"] as? String
    }
}
