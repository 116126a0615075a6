import AsyncHTTPClient
import CityscapeKit
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Active health checks: every `interval`, `GET <health path>` on every backend, all at once.
///
/// A 2xx within the check timeout passes; anything else (other status, refused, timeout) fails.
/// A `Service`, so it stops with the process instead of running as a stray task.
struct HealthChecker: Service {
    let pool: BackendPool
    let client: HTTPClient
    let policy: HealthPolicy
    /// How long one check may take. Rounds never overlap (a round waits for all its checks), so this
    /// may exceed the interval; it must not be as tight as the interval, or a busy machine (2 cores
    /// shared with the load) ejects healthy backends, as the first version of this did.
    let timeout: Duration

    /// The check timeout unless `--backend-timeout` is shorter.
    static let maximumTimeout: Duration = .seconds(2)

    func run() async throws {
        // Shutdown cancels the sleep; that is the normal end, not an error for the service group.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await checkAll()
                try? await Task.sleep(for: policy.interval)
            }
        }
    }

    /// One round of checks; also called by tests.
    func checkAll() async {
        await withTaskGroup(of: Void.self) { group in
            for address in pool.addresses {
                group.addTask {
                    let failure = await check(address)
                    pool.record(failure == nil ? .checkPassed : .checkFailed, for: address, reason: failure)
                }
            }
        }
    }

    /// nil when the check passed, else why it failed.
    func check(_ address: BackendAddress) async -> String? {
        var request = HTTPClientRequest(url: address.baseURL + policy.path)
        request.headers.replaceOrAdd(name: "Host", value: address.description)
        request.headers.replaceOrAdd(name: "User-Agent", value: "cityscape-proxy-health-check")
        do {
            let response = try await client.execute(request, timeout: timeout.timeAmount)
            // Drain the (small) body so the connection goes back to the pool.
            _ = try await response.body.collect(upTo: 64 * 1024)
            return (200..<300).contains(Int(response.status.code)) ? nil : "status \(response.status.code)"
        } catch {
            return BackendFailure(error).summary
        }
    }
}
