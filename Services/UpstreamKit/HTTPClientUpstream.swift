import AsyncHTTPClient
import CityscapeKit
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
public import ServiceLifecycle

/// The async transport's TLS path: one AsyncHTTPClient for the whole process, owned as a `Service`.
///
/// ``EventLoopUpstream`` sends plain `http://` calls itself and hands `https://` ones to this client.
///
/// Added to the application's services, it is shut down after the HTTP server has drained, so no
/// request in flight loses its client. A call suspends while it waits for the upstream; it holds no
/// thread, which is why thousands of calls can wait at once.
public final class HTTPClientUpstream: UpstreamClient, Service {
    /// The settings that shape the client.
    public struct Configuration: Sendable {
        /// Connect timeout; each request also gets its own deadline from `get(_:headers:timeout:)`.
        public var connectTimeout: Duration
        /// Connections kept per upstream host: size it for the concurrency you expect, or requests queue inside the client.
        public var connectionsPerHost: Int
        /// PEM file of the certificate authorities to trust instead of the system store; nil uses the system store.
        public var caFile: String?

        public init(connectTimeout: Duration, connectionsPerHost: Int, caFile: String? = nil) {
            self.connectTimeout = connectTimeout
            self.connectionsPerHost = connectionsPerHost
            self.caFile = caFile
        }
    }

    private let client: HTTPClient

    /// Creates the client on NIO's shared event loop group, the one Hummingbird serves on, so an
    /// upstream response needs no hop between thread pools.
    public init(configuration: Configuration) {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile {
            tls.trustRoots = .file(caFile)
        }
        var pool = HTTPClient.Configuration.ConnectionPool(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, configuration.connectionsPerHost)
        )
        // A refused connection fails the request at once, as curl does in the blocking mode, instead of
        // retrying with back-off until the connect timeout: the gateway answers 502 immediately and
        // both modes classify a stopped upstream the same way.
        pool.retryConnectionEstablishment = false
        let connect = configuration.connectTimeout.timeAmount
        self.client = HTTPClient(
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            configuration: HTTPClient.Configuration(
                tlsConfiguration: tls,
                // An upstream that redirects is misconfigured; following it would hide that and could leave the intended host.
                redirectConfiguration: .disallow,
                // Read timeout as a backstop only: the per-request deadline bounds the whole exchange.
                timeout: .init(connect: connect, read: connect),
                connectionPool: pool,
                proxy: nil,
                ignoreUncleanSSLShutdown: false,
                decompression: .disabled
            )
        )
    }

    public func get(_ url: String, headers: [(name: String, value: String)], timeout: Duration) async throws(UpstreamError) -> UpstreamResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        do {
            let response = try await client.execute(request, deadline: .now() + timeout.timeAmount)
            let body = try await response.body.collect(upTo: UpstreamLimits.maximumBodyBytes)
            return UpstreamResponse(status: Int(response.status.code), body: Array(buffer: body))
        } catch {
            throw Self.classify(error)
        }
    }

    /// Waits for graceful shutdown (the server has drained by then), then closes every connection.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Closes every connection; later calls fail as ``UpstreamError/shutdown(_:)``.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Maps AsyncHTTPClient and NIO errors onto the causes the gateway distinguishes.
    /// `socket()` failed for want of a file descriptor, in this process or in the whole system.
    static func isOutOfSockets(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return error.errnoCode == EMFILE || error.errnoCode == ENFILE
    }

    static func classify(_ error: any Error) -> UpstreamError {
        let detail = String(describing: error)
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .deadlineExceeded, .readTimeout, .writeTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout:
                return .timeout(detail)
            case .remoteConnectionClosed, .cancelled:
                return .connectionReset(detail)
            case .invalidURL, .emptyHost, .emptyScheme:
                return .invalidURL(detail)
            case .alreadyShutdown:
                return .shutdown(detail)
            default:
                return .connectionReset(detail)
            }
        }
        if error is NIOTooManyBytesError { return .bodyTooLarge(detail) }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError { return .tls(detail) }
        if let error = error as? NIOConnectionError {
            let causes = error.connectionErrors.map(\.error) + [error.dnsAError, error.dnsAAAAError].compactMap { $0 }
            return causes.contains(where: isOutOfSockets) ? .outOfSockets(detail) : .connectionFailed(detail)
        }
        if isOutOfSockets(error) { return .outOfSockets(detail) }
        if let error = error as? IOError {
            return error.errnoCode == ECONNREFUSED ? .connectionFailed(detail) : .connectionReset(detail)
        }
        if error is ChannelError { return .connectionReset(detail) }
        return .connectionFailed(detail)
    }
}
