import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Closed-loop GET load over keep-alive connections that tells a dropped request from a refused one.
///
/// A request sent on an established connection that closes without an answer is *dropped*: the failure
/// a graceful stop or reload must avoid. A connect refused after a listener closed is *refused*: the
/// expected end of a stopped server, which ends that worker's loop.
enum KeepAliveLoad {
    struct Outcome: Sendable {
        var statuses: [Int] = []
        var dropped: [String] = []
        var refused = 0
        var succeeded: Int { statuses.filter { $0 == 200 }.count }
    }

    static func run(
        url: String,
        connections: Int,
        duration: Duration,
        during: @escaping @Sendable () async throws -> Void
    ) async throws -> Outcome {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(1), read: .seconds(10))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        // A refused connect must fail at once, not be retried until the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
        let deadline = ContinuousClock.now + duration
        let outcome = try await withThrowingTaskGroup(of: Outcome.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var outcome = Outcome()
                    while ContinuousClock.now < deadline {
                        do {
                            let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            outcome.statuses.append(Int(response.status.code))
                        } catch  where isRefused(error) {
                            outcome.refused += 1
                            break
                        } catch {
                            outcome.dropped.append(String(describing: error))
                        }
                    }
                    return outcome
                }
            }
            group.addTask {
                try await during()
                return Outcome()
            }
            return try await group.reduce(into: Outcome()) { total, part in
                total.statuses += part.statuses
                total.dropped += part.dropped
                total.refused += part.refused
            }
        }
        try await client.shutdown()
        return outcome
    }

    static func isRefused(_ error: any Error) -> Bool {
        if error is NIOConnectionError { return true }
        if let error = error as? IOError { return error.errnoCode == ECONNREFUSED }
        if let error = error as? HTTPClientError { return error == .connectTimeout }
        return false
    }
}
