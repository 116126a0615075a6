import CityscapeKit
import EpollKit
import NIOCore
import NIOHTTP1

/// What one upstream connection reports to the client connection it currently serves: the response one
/// part at a time (a head, body pieces, the end), then the other events.
///
/// Both sides of an exchange live on the same event loop, so these are plain calls, never hops. Each part
/// has its own call rather than one call taking an enum of them: wrapping a head in an enum and taking it
/// out again copies it, a retain and a release of each of its buffers.
protocol UpstreamConnectionDelegate: AnyObject {
    /// A response head; an interim (1xx) one is followed by another head.
    func upstream(_ connection: UpstreamConnection, receivedHead head: UpstreamResponseHead)
    func upstream(_ connection: UpstreamConnection, receivedBody bytes: ByteBuffer)
    func upstreamResponseEnded(_ connection: UpstreamConnection)
    func upstreamReadComplete(_ connection: UpstreamConnection)
    func upstreamWritabilityChanged(_ connection: UpstreamConnection)
    /// The exchange failed before its response ended (reset, close, timeout, bad response).
    func upstream(_ connection: UpstreamConnection, failed failure: BackendFailure)
}

/// One keep-alive HTTP/1.1 connection to a backend: requests go out as bytes the client side wrote,
/// responses are parsed in place (`HeadScanner`, `BodyDecoder`).
///
/// Serves one exchange at a time for its `delegate`; between exchanges it is parked in the event loop's
/// `UpstreamConnectionPool`, which it leaves when the backend closes it.
final class UpstreamConnection: TCPConnectionDelegate {
    /// The largest response head accepted from a backend: generous, so a backend's large cookies or CSP headers
    /// are not a 502.
    static let maxResponseHeadBytes = 64 * 1024

    let backend: BackendAddress
    private let timeout: TimeAmount
    private let connection: TCPConnection
    /// Strong until the connection closes, which breaks the cycle with the pool that parks it: a weak
    /// reference would give the pool a side table, slowing every retain of it, and cost a load through
    /// that table on every release of the connection.
    var pool: UpstreamConnectionPool?
    /// The client side of the current exchange; nil while parked.
    var delegate: (any UpstreamConnectionDelegate)?
    /// When the connection was last parked, for the pool's idle sweep.
    var parkedAt = NIODeadline.uptimeNanoseconds(0)
    /// Whether the backend let this connection be used again after its last response.
    private(set) var reusable = true
    private var responseInProgress = false
    /// Whether the request in flight is a HEAD, whose response has no body whatever its head declares.
    private var requestIsHEAD = false
    /// Bytes read and not parsed yet; the body of the response in progress, once its head is read.
    private var received = ByteBuffer()
    private var heads = HeadScanner(kind: .response, limit: UpstreamConnection.maxResponseHeadBytes)
    private var body: BodyDecoder?

    /// The backend timeout: until the response head once the request is sent, then between reads.
    private var timer: DeadlineTimer<Void>?

    /// Takes over `connection`, which has just connected.
    init(backend: BackendAddress, connection: TCPConnection, timeout: TimeAmount) {
        self.backend = backend
        self.connection = connection
        self.timeout = timeout
        connection.delegate = self
        timer = DeadlineTimer(eventLoop: connection.loop) { [self] in
            reusable = false
            fail(.timeout)
            connection.close()
        }
    }

    var isActive: Bool { connection.isOpen }
    var isWritable: Bool { connection.isWritable }

    // MARK: Used by the client side

    /// Starts a request: its head, written by the client side.
    func writeHead(_ head: ByteBuffer, isHEAD: Bool) {
        reusable = true
        responseInProgress = true
        requestIsHEAD = isHEAD
        write(head)
    }

    /// Writes request bytes (the head's, or the body's with their framing).
    func write(_ bytes: ByteBuffer) {
        connection.write(bytes)
    }

    func flush() {
        connection.flush()
    }

    /// Starts waiting for the response: the head must come within the timeout, then each read.
    func startResponseTimer() {
        timer?.set(at: connection.loop.turnTime + timeout, ())
    }

    func pauseReads() {
        connection.pauseReads()
    }

    func resumeReads() {
        connection.resumeReads()
    }

    /// Ends the exchange without reuse: the connection is in an unknown state.
    func abandon() {
        delegate = nil
        timer?.clear()
        connection.close()
    }

    /// Ends the exchange after its response; the connection goes back to the pool if it can be reused.
    func release() {
        delegate = nil
        timer?.clear()
        connection.resumeReads()
        if reusable && !responseInProgress && isActive, let pool {
            pool.park(self)
        } else {
            connection.close()
        }
    }

    /// Closes the connection (parked, or shutting down).
    func close() {
        connection.close()
    }

    // MARK: Connection events

    func connectionRead(_ buffer: ByteBuffer) {
        guard delegate != nil else {
            // A parked connection has nothing to say; whatever the backend sent, it is no longer usable.
            reusable = false
            connection.close()
            return
        }
        if received.readableBytes == 0 {
            received = buffer
        } else {
            received.writeImmutableBuffer(buffer)
        }
        if timer?.isSet == true { startResponseTimer() }
        do throws(BackendFailure) {
            try deliverReceived()
            // Let go of a consumed read buffer, so the loop can read into it again instead of allocating another.
            if received.readableBytes == 0 { received = connection.loop.emptyBuffer }
        } catch {
            reusable = false
            fail(error)
            connection.close()
        }
    }

    /// Hands the delegate every complete part in `received`, until the response ends or more bytes are needed.
    private func deliverReceived() throws(BackendFailure) {
        while let delegate {
            guard var decoder = body else {
                // Bound straight from the scanner's result: unwrapping a head kept in an optional copies it.
                let head: UpstreamResponseHead
                do {
                    guard let wire = try heads.next(from: &received) else { return }
                    head = try UpstreamResponseHead(consume wire, toHEAD: requestIsHEAD)
                } catch let failure as BackendFailure {
                    throw failure
                } catch {
                    throw .other("malformed response from backend: \(error)")
                }
                if head.status.code == 101 { throw .other("backend switched protocols unasked (101)") }
                if head.status.code >= 200 {
                    reusable = head.keepAlive
                    body = BodyDecoder(head.framing)
                }
                delegate.upstream(self, receivedHead: head)
                continue
            }
            let part: BodyDecoder.Output?
            do {
                part = try decoder.next(from: &received)
            } catch {
                throw .other("malformed response body from backend: \(error.reason)")
            }
            body = decoder
            switch part {
            case nil:
                return
            case .data(let bytes):
                delegate.upstream(self, receivedBody: bytes)
            case .end:
                body = nil
                // One request at a time: bytes after the response are not ours to read, so the connection is spent.
                if received.readableBytes > 0 { reusable = false }
                received = connection.loop.emptyBuffer
                endResponse()
                delegate.upstreamResponseEnded(self)
                return
            }
        }
    }

    private func endResponse() {
        responseInProgress = false
        timer?.clear()
    }

    func connectionReadComplete() {
        delegate?.upstreamReadComplete(self)
    }

    func connectionWritabilityChanged() {
        delegate?.upstreamWritabilityChanged(self)
    }

    func connectionClosed(_ error: SocketError?) {
        timer?.stop()
        reusable = false
        if let error { fail(BackendFailure(error)) }
        pool?.remove(self)
        pool = nil
        if let decoder = body, decoder.endsWithClose, let delegate {
            // A response delimited by the close has just ended.
            body = nil
            endResponse()
            delegate.upstreamResponseEnded(self)
        }
        fail(.closedBeforeResponse("connection closed by backend"))
    }

    private func fail(_ failure: BackendFailure) {
        guard let delegate else { return }
        self.delegate = nil
        timer?.clear()
        delegate.upstream(self, failed: failure)
    }
}

@available(*, unavailable)
extension UpstreamConnection: Sendable {}
