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

    /// Whether the client is still connected. The server does not cancel a handler whose client left,
    /// so work that waits in line (the blocking gateway's queue) checks this before it starts.
    public var clientIsConnected: @Sendable () -> Bool {
        let channel = self.channel
        return { channel.isActive }
    }

    /// The path parameter `name`, percent-decoded (`SW1A%201AA` → `SW1A 1AA`). A broken escape is the
    /// client's error: 400 with `errorCode`.
    public func decodedParameter(_ name: String, errorCode: String) throws(ServiceError) -> String {
        let raw = parameters.get(name) ?? ""
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return raw }
        guard let decoded = raw.removingPercentEncoding else {
            throw ServiceError(.badRequest, code: errorCode, message: "\(name) has a malformed percent escape")
        }
        return decoded
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
