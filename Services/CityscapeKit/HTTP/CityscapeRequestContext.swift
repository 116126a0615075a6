import Foundation
public import Hummingbird
import NIOCore

/// The request context of every Cityscape router: Hummingbird's core storage plus the request id.
public struct CityscapeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The `X-Request-ID` of this request (received or generated); set by `RequestIDMiddleware`.
    public var requestID: String = ""
    /// The client's connection, to learn whether anyone still waits for the answer.
    private let channel: any Channel

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Whether the client is still connected. Hummingbird does not cancel a handler whose client left,
    /// so work that waits in line (the blocking gateway's queue) checks this before it starts.
    public var clientIsConnected: @Sendable () -> Bool {
        let channel = self.channel
        return { channel.isActive }
    }

    /// JSON bodies with sorted keys (stable output that diffs cleanly; Foundation's encoder otherwise
    /// emits keys in hash order, different on every run) and unescaped slashes.
    public var responseEncoder: JSONEncoder { Self.encoder }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
