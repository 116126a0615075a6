import AsyncHTTPClient
import CityscapeKit
import CityscapeTestSupport
import EpollKit
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

@testable import ProxyServer

/// The proxy under test, in process, with its proxy and admin URLs.
struct TestProxy: Sendable {
    let url: String
    let adminURL: String
    let application: ProxyApplication
    var pool: BackendPool { application.pool }
}

/// Runs the real proxy application (both listeners on port 0) for the duration of `body`.
func withProxy<T: Sendable>(
    backends: [BackendAddress],
    recorder: LogRecorder = LogRecorder(),
    loopCount: Int = 2,
    loopName: String = "cityscape-proxy",
    resolver: OffLoopResolver = OffLoopResolver(),
    configure: (inout ProxyConfiguration) -> Void = { _ in },
    _ body: @Sendable (TestProxy) async throws -> T
) async throws -> T {
    var configuration = ProxyConfiguration(backends: backends)
    configuration.admin = BackendAddress(host: "127.0.0.1", port: 0)
    configuration.backendTimeout = .seconds(5)
    configuration.health.interval = .milliseconds(200)
    // Bounds the graceful shutdown at the end of a test that left a request hanging.
    configuration.server.drainTimeout = .seconds(1)
    configure(&configuration)
    let (stream, continuation) = AsyncStream.makeStream(of: (String, String).self)
    var application = try ProxyApplication(
        configuration: configuration,
        logger: recorder.logger(label: "cityscape-proxy", level: .info),
        loopCount: loopCount,
        loopName: loopName,
        resolver: resolver
    )
    application.onListening = { role, url in continuation.yield((role, url)) }
    let app = application
    let serviceGroup = app.serviceGroup(signals: [])
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await serviceGroup.run() }
        var urls: [String: String] = [:]
        for await (role, url) in stream {
            urls[role] = url
            if urls.count == 2 { break }
        }
        // A graceful stop, never a cancellation: cancelling a server with a connection accepted but not yet
        // served traps in NIO ("Deinited NIOAsyncWriter without calling finish()", apple/swift-nio#3481).
        let result: Result<T, any Error>
        do {
            result = .success(try await body(TestProxy(url: urls["proxy"]!, adminURL: urls["admin"]!, application: app)))
        } catch {
            result = .failure(error)
        }
        await serviceGroup.triggerGracefulShutdown()
        try await group.waitForAll()
        return try result.get()
    }
}

/// A client with its own small pool, so tests do not share connections through `HTTPClient.shared`.
func get(_ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil) async throws -> LiveResponse {
    try await LiveHTTP.request(url, method: method, headers: headers, body: body, timeout: .seconds(20))
}
