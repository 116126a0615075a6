import NIOCore
import NIOPosix

/// Sends raw bytes to 127.0.0.1:`port` and returns what came back until the server closed the
/// connection or `timeout` passed (whatever arrived by then): for requests no HTTP client library will send.
func rawExchange(port: Int, _ request: String, timeout: Duration = .seconds(5)) async throws -> String {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    // Closing the channel on a timer ends the read loop below with whatever arrived by then.
    let underlying = channel.channel
    let closer = underlying.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)) {
        underlying.close(promise: nil)
    }
    defer { closer.cancel() }
    var received = ""
    try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: request))
        do {
            for try await buffer in inbound { received += String(buffer: buffer) }
        } catch {
            // A reset after the response still leaves the response to assert on.
        }
    }
    return received
}

/// The status code of the first response in `raw`, or 0.
func statusCode(_ raw: String) -> Int {
    let parts = raw.split(separator: " ", maxSplits: 2)
    guard parts.count >= 2, parts[0].hasPrefix("HTTP/1.") else { return 0 }
    return Int(parts[1]) ?? 0
}

/// Like `rawExchange`, but sends `parts` one after another with a pause before each, on one connection.
func rawConversation(port: Int, _ parts: [(pause: Duration, bytes: String)], timeout: Duration = .seconds(5)) async throws -> String {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    let underlying = channel.channel
    let closer = underlying.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)) {
        underlying.close(promise: nil)
    }
    defer { closer.cancel() }
    return try await channel.executeThenClose { inbound, outbound in
        try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask {
                var received = ""
                do {
                    for try await buffer in inbound { received += String(buffer: buffer) }
                } catch {
                    // A reset after the responses still leaves them to assert on.
                }
                return received
            }
            for part in parts {
                try await Task.sleep(for: part.pause)
                try await outbound.write(ByteBuffer(string: part.bytes))
            }
            return try await group.next() ?? ""
        }
    }
}
