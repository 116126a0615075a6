/// The one seam between a service and the HTTP services it calls: a GET with a deadline.
///
/// Two transports implement it: ``EventLoopUpstream`` (SwiftNIO on the serving event loops, with
/// AsyncHTTPClient's ``HTTPClientUpstream`` for `https://`; suspends, holds no thread) and ``CurlWorker`` (libcurl on a leased pool thread; blocks that thread on purpose). Code written
/// against this protocol (the gateway's composition, its cache) is shared by both modes.
public protocol UpstreamClient: Sendable {
    /// Sends `GET url` with `headers` and returns the whole response, or fails within `timeout`
    /// (connect plus the whole exchange).
    ///
    /// Any HTTP status is a response, not an error: the caller decides what a 404 means.
    func get(_ url: String, headers: [(name: String, value: String)], timeout: Duration) async throws(UpstreamError) -> UpstreamResponse

    /// Sends `GET` of `path` under `endpoint`'s base URL, as ``get(_:headers:timeout:)`` does for the joined URL.
    ///
    /// A transport that can use the base parsed at start-up implements it; the others join the two.
    func get(_ endpoint: UpstreamEndpoint, path: String, headers: [(name: String, value: String)], timeout: Duration) async throws(UpstreamError)
        -> UpstreamResponse
}

extension UpstreamClient {
    /// Joins the base and the path, then sends the whole URL: what the blocking and TLS transports need anyway.
    public func get(_ endpoint: UpstreamEndpoint, path: String, headers: [(name: String, value: String)], timeout: Duration)
        async throws(UpstreamError)
        -> UpstreamResponse
    {
        try await get(endpoint.url(path), headers: headers, timeout: timeout)
    }
}

/// A complete upstream answer: status and body (bodies here are small JSON documents).
public struct UpstreamResponse: Sendable, Equatable {
    /// The HTTP status code, e.g. 200.
    public var status: Int
    /// The body bytes, read completely.
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// Limits shared by both transports.
public enum UpstreamLimits {
    /// Largest accepted response body; a bigger one is a bad upstream, not something to buffer.
    public static let maximumBodyBytes = 1 << 20
}
