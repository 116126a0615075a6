import AsyncHTTPClient
import ServiceLifecycle

/// Owns the upstream `HTTPClient` for the life of the process and shuts it down last.
///
/// Listed first in the service group, so on SIGTERM it stops only after the proxy listener has
/// drained (service groups shut down in reverse order), as in hummingbird-examples' proxy-server.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
