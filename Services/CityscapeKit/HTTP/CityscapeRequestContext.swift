import Foundation
public import Hummingbird

/// The request context of every Cityscape router: Hummingbird's core storage plus the request id.
public struct CityscapeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The `X-Request-ID` of this request (received or generated); set by `RequestIDMiddleware`.
    public var requestID: String = ""

    public init(source: Source) {
        self.coreContext = .init(source: source)
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
