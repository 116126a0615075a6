import AsyncHTTPClient
import EpollKit
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

/// What went wrong talking to a backend, in the terms the retry rules and health need: the proxy's own
/// failure cases, into which both its sockets' errors (`SocketError`, `ResolutionError`) and its health
/// checker's (AsyncHTTPClient and NIO errors) are mapped.
///
/// The distinction that matters is whether request bytes may have reached the backend: only then is
/// a retry a replay.
enum BackendFailure: Error, Sendable, Equatable {
    /// The TCP connect failed (refused, unreachable): nothing was sent.
    case connectFailed(String)
    /// The TCP connect (or the wait for a pooled connection) timed out: nothing was sent.
    case connectTimeout
    /// The connection closed or reset after the request was (at least partly) sent, before a response head.
    case closedBeforeResponse(String)
    /// No response head within `--backend-timeout`: the request was sent and may be executing.
    case timeout
    /// Anything else (malformed response, ...).
    case other(String)

    init(_ error: any Error) {
        switch error {
        case let error as BackendFailure:
            self = error
        case let error as SocketError:
            self = Self.mapped(error)
        case let error as ResolutionError:
            self = .connectFailed(error.description)
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout, .getConnectionFromPoolTimeout: self = .connectTimeout
            case .deadlineExceeded, .readTimeout: self = .timeout
            case .remoteConnectionClosed: self = .closedBeforeResponse("connection closed by backend")
            default: self = .other(String(describing: error))
            }
        case is NIOConnectionError:
            self = .connectFailed(String(describing: error))
        case let error as IOError where [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode):
            self = .connectFailed(String(describing: error))
        case let error as IOError where [ECONNRESET, EPIPE].contains(error.errnoCode):
            self = .closedBeforeResponse(String(describing: error))
        case ChannelError.connectTimeout:
            self = .connectTimeout
        case ChannelError.ioOnClosedChannel, ChannelError.eof, ChannelError.outputClosed:
            self = .closedBeforeResponse(String(describing: error))
        case HTTPParserError.invalidEOFState:
            // AsyncHTTPClient's view (the health checks) of a backend closing with the response unfinished.
            self = .closedBeforeResponse("connection closed by backend")
        default:
            self = .other(String(describing: error))
        }
    }

    /// A failure of one of the proxy's own sockets: a connect that was refused or timed out sent nothing.
    init(_ error: SocketError) {
        self = Self.mapped(error)
    }

    private static func mapped(_ error: SocketError) -> BackendFailure {
        switch error.errnoCode {
        case nil where error.operation == "connect": .connectTimeout
        case nil: .timeout
        case let code? where error.operation == "connect" || [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(code):
            .connectFailed(error.description)
        case let code? where [ECONNRESET, EPIPE].contains(code):
            .closedBeforeResponse(error.description)
        default: .other(error.description)
        }
    }

    /// Whether the request certainly never left the proxy.
    var nothingSent: Bool {
        switch self {
        case .connectFailed, .connectTimeout: true
        case .closedBeforeResponse, .timeout, .other: false
        }
    }

    /// The health event this failure feeds.
    var healthEvent: BackendHealth.Event {
        if case .connectFailed = self { return .connectionRefused }
        return .requestFailed
    }

    /// One line for logs and `/status`.
    var summary: String {
        switch self {
        case .connectFailed(let detail): "connect failed: \(detail)"
        case .connectTimeout: "connect timeout"
        case .closedBeforeResponse(let detail): "closed before response: \(detail)"
        case .timeout: "no response within the backend timeout"
        case .other(let detail): detail
        }
    }
}
