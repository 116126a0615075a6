import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Closed-loop GET load where each worker holds one keep-alive connection for its whole life.
///
/// That makes a *dropped* request unambiguous: one sent on an established connection that then closed
/// without answering it, the failure a graceful stop or reload must avoid. A worker ends when the server
/// says `Connection: close` (the graceful way to end a keep-alive connection) or when time is up; it never
/// reconnects, so a connect that races a closing listener cannot be mistaken for a drop, and `during` runs
/// only once every worker has had an answer, so each connection is established and served by then.
enum KeepAliveLoad {
    struct Outcome: Sendable {
        var statuses: [Int] = []
        var dropped: [String] = []
        /// Workers whose connection the server ended with `Connection: close`.
        var closedGracefully = 0
        var succeeded: Int { statuses.filter { $0 == 200 }.count }
    }

    static func run(
        host: String = "127.0.0.1",
        port: Int,
        path: String,
        connections: Int,
        duration: Duration,
        during: @escaping @Sendable () async throws -> Void
    ) async throws -> Outcome {
        let deadline = ContinuousClock.now + duration
        let served = ServedCount()
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            for _ in 0..<connections {
                group.addTask { try await worker(host: host, port: port, path: path, until: deadline, served: served) }
            }
            group.addTask {
                let waitLimit = ContinuousClock.now + .seconds(20)
                while served.value.load(ordering: .relaxed) < connections && ContinuousClock.now < waitLimit {
                    try await Task.sleep(for: .milliseconds(10))
                }
                try await during()
                return Outcome()
            }
            return try await group.reduce(into: Outcome()) { total, part in
                total.statuses += part.statuses
                total.dropped += part.dropped
                total.closedGracefully += part.closedGracefully
            }
        }
    }

    private static func worker(
        host: String,
        port: Int,
        path: String,
        until deadline: ContinuousClock.Instant,
        served: ServedCount
    ) async throws -> Outcome {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var outcome = Outcome()
            var responses = inbound.makeAsyncIterator()
            while ContinuousClock.now < deadline {
                var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
                head.headers.add(name: "Host", value: "\(host):\(port)")
                do {
                    try await outbound.write(.head(head))
                    try await outbound.write(.end(nil))
                } catch {
                    outcome.dropped.append("write failed after \(outcome.statuses.count) answers: \(error)")
                    break
                }
                var status: Int?
                var closing = false
                do {
                    reading: while let part = try await responses.next() {
                        switch part {
                        case .head(let response):
                            status = Int(response.status.code)
                            closing = response.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
                        case .body:
                            continue
                        case .end:
                            break reading
                        }
                    }
                } catch {
                    outcome.dropped.append("read failed after \(outcome.statuses.count) answers: \(error)")
                    break
                }
                guard let status else {
                    outcome.dropped.append("connection closed without an answer after \(outcome.statuses.count) answers")
                    break
                }
                outcome.statuses.append(status)
                if outcome.statuses.count == 1 { served.value.add(1, ordering: .relaxed) }
                if closing {
                    outcome.closedGracefully += 1
                    break
                }
            }
            return outcome
        }
    }
}

/// Workers that have had their first answer.
final class ServedCount: Sendable {
    let value = Atomic<Int>(0)
}
