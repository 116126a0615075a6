import CityscapeTestSupport
import Foundation

/// The location, sun and gateway binaries running together on 127.0.0.1, wired by URL.
struct GatewayStack: Sendable {
    let location: ServiceProcess
    let sun: ServiceProcess
    let gateway: ServiceProcess

    /// Starts both upstreams (optionally slowed down), then a gateway in `mode` pointed at them.
    static func start(
        mode: String,
        gatewayArguments: [String] = [],
        locationLatency: String = "0",
        sunLatency: String = "0"
    ) async throws -> GatewayStack {
        async let location = ServiceProcess("cityscape-location", arguments: ["--latency", locationLatency])
        async let sun = ServiceProcess("cityscape-sun", arguments: ["--latency", sunLatency])
        let (started, sunStarted) = try await (location, sun)
        let gateway = try await ServiceProcess(
            "cityscape-gateway",
            arguments: ["--mode", mode, "--location-url", started.baseURL, "--sun-url", sunStarted.baseURL] + gatewayArguments
        )
        return GatewayStack(location: started, sun: sunStarted, gateway: gateway)
    }

    /// `GET /api/sun/{postal}/{country}` on the gateway, with an optional query string.
    func sun(_ postal: String, _ country: String, query: String = "", headers: [(String, String)] = []) async throws -> LiveResponse {
        try await LiveHTTP.request("\(gateway.baseURL)/api/sun/\(postal)/\(country)\(query)", headers: headers)
    }

    /// How many location lookups reached the location service, from its access log.
    func locationCalls() -> Int {
        location.output().components(separatedBy: "GET /api/location/").count - 1
    }

    /// How many sun computations reached the sun service, from its access log.
    func sunCalls() -> Int {
        sun.output().components(separatedBy: "GET /json ").count - 1
    }

    /// Stops the three processes by PID.
    func stop() async {
        async let gatewayStopped = gateway.stop()
        async let locationStopped = location.stop()
        async let sunStopped = sun.stop()
        _ = await (gatewayStopped, locationStopped, sunStopped)
    }
}

/// Runs `count` copies of `request` at once and returns their results in completion order.
func concurrently<T: Sendable>(_ count: Int, _ request: @escaping @Sendable () async throws -> T) async throws -> [T] {
    try await withThrowingTaskGroup(of: T.self) { group in
        for _ in 0..<count { group.addTask { try await request() } }
        return try await group.reduce(into: []) { $0.append($1) }
    }
}
