import CEpoll
import Glibc
public import NIOCore

/// What a `TCPConnection` tells the code that owns it; called on the connection's loop.
public protocol TCPConnectionDelegate: AnyObject {
    /// Bytes read; the buffer may be kept (a later read then uses another).
    func connectionRead(_ buffer: ByteBuffer)
    /// The reads of one readiness event are done: the moment to flush what they produced.
    func connectionReadComplete()
    /// `isWritable` changed: the queued output went over the high mark, or back under the low one.
    func connectionWritabilityChanged()
    /// The connection closed: by `close()`, by the peer (nil error on a clean end of input), or on an error.
    func connectionClosed(_ error: SocketError?)
}

/// A non-blocking TCP socket on an `EpollLoop`: reads are delivered to the delegate while reads are
/// enabled, writes are queued and go out on `flush()` in one `write` or `writev`, and `isWritable`
/// goes false while more than `highWaterMark` bytes wait, which is the backpressure signal the proxy
/// uses to stop reading from the other side.
///
/// Used on its loop only. Errors are `SocketError`s: the call that failed and its `errno`.
public final class TCPConnection: EpollHandler {
    public static let highWaterMark = 64 * 1024
    public static let lowWaterMark = 32 * 1024

    let fd: Int32
    public let loop: EpollLoop
    /// Strong until the connection closes, which breaks the cycle with a delegate that holds the connection.
    public var delegate: (any TCPConnectionDelegate)?
    public private(set) var isOpen = true
    public private(set) var isWritable = true

    private var queued = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    private var queuedBytes = 0
    private var readsEnabled = true
    /// EPOLLOUT is registered: the socket was full (or connecting), so writes wait for it.
    private var awaitingWritable = false
    private var closeWhenFlushed = false
    private var connectCompletion: ((Result<Void, SocketError>) -> Void)?
    private var connectTimer: Scheduled<Void>?

    private init(fd: Int32, loop: EpollLoop) {
        self.fd = fd
        self.loop = loop
    }

    /// An accepted socket, registered for reads; on failure the socket is closed. Call on `loop`.
    static func accepted(_ fd: Int32, on loop: EpollLoop) throws(SocketError) -> TCPConnection {
        setNoDelay(fd)
        let connection = TCPConnection(fd: fd, loop: loop)
        do {
            try loop.register(fd, connection, events: EPOLLIN.rawValue)
        } catch {
            Glibc.close(fd)
            throw error
        }
        return connection
    }

    /// Connects to `address`; `completion` gets the connection once it is up, or the error (refused,
    /// unreachable: its `errno`; no answer within `timeout`: `timedOut`). Call on `loop`.
    public static func connect(
        to address: SocketAddress,
        on loop: EpollLoop,
        timeout: TimeAmount,
        completion: @escaping (Result<TCPConnection, SocketError>) -> Void
    ) {
        let fd = address.makeNonBlockingStreamSocket()
        guard fd >= 0 else { return completion(.failure(SocketError("socket", errno: errno))) }
        setNoDelay(fd)
        let result = address.withSockAddr { pointer, length in Glibc.connect(fd, pointer, socklen_t(length)) }
        let connection = TCPConnection(fd: fd, loop: loop)
        if result != 0 && errno != EINPROGRESS {
            let error = SocketError("connect", errno: errno)
            Glibc.close(fd)
            return completion(.failure(error))
        }
        do {
            try loop.register(fd, connection, events: EPOLLOUT.rawValue)
        } catch {
            Glibc.close(fd)
            return completion(.failure(error))
        }
        connection.awaitingWritable = true
        connection.connectCompletion = { result in completion(result.map { connection }) }
        connection.connectTimer = loop.assumeIsolated().scheduleTask(in: timeout) {
            connection.finishConnect(.failure(.timedOut("connect")))
        }
    }

    private static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The peer's IP address, for `X-Forwarded-For`.
    public var remoteIP: String? {
        SocketAddress.of(socket: fd, peer: true)?.ipAddress
    }

    // MARK: Writing

    public func write(_ bytes: ByteBuffer) {
        guard isOpen, bytes.readableBytes > 0 else { return }
        queued.append(bytes)
        queuedBytes += bytes.readableBytes
        if isWritable && queuedBytes > Self.highWaterMark {
            isWritable = false
            delegate?.connectionWritabilityChanged()
        }
    }

    public func flush() {
        guard isOpen, !awaitingWritable, !queued.isEmpty else { return }
        writeQueued()
    }

    /// Flushes, then closes once everything queued is written (a close would drop it).
    public func closeAfterFlush() {
        guard isOpen else { return }
        closeWhenFlushed = true
        if queued.isEmpty { close() } else { flush() }
    }

    private func writeQueued() {
        while !queued.isEmpty {
            let written: Int
            if queued.count == 1 {
                written = queued[queued.startIndex].withUnsafeReadableBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            } else {
                written = writeVector()
            }
            if written < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return awaitWritable() }
                if errno == EINTR { continue }
                return close(SocketError("write", errno: errno))
            }
            consume(written)
        }
        if awaitingWritable {
            awaitingWritable = false
            updateInterest()
        }
        if !isWritable && queuedBytes <= Self.lowWaterMark {
            isWritable = true
            delegate?.connectionWritabilityChanged()
        }
        if closeWhenFlushed && queued.isEmpty { close() }
    }

    private func writeVector() -> Int {
        let count = min(queued.count, 64)
        return withUnsafeTemporaryAllocation(of: iovec.self, capacity: count) { vectors in
            var index = queued.startIndex
            for slot in 0..<count {
                queued[index].withUnsafeReadableBytes { bytes in
                    vectors[slot] = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
                }
                index = queued.index(after: index)
            }
            var message = msghdr()
            message.msg_iov = vectors.baseAddress
            message.msg_iovlen = count
            // The iovecs point into buffers `queued` keeps alive until `consume` drops them.
            return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
        }
    }

    private func consume(_ written: Int) {
        var left = written
        queuedBytes -= written
        while left > 0 {
            let first = queued[queued.startIndex].readableBytes
            if first <= left {
                queued.removeFirst()
                left -= first
            } else {
                queued[queued.startIndex].moveReaderIndex(forwardBy: left)
                left = 0
            }
        }
    }

    private func awaitWritable() {
        guard !awaitingWritable else { return }
        awaitingWritable = true
        updateInterest()
    }

    // MARK: Reading

    /// Stops reading from the socket (backpressure) until `resumeReads`.
    public func pauseReads() {
        guard readsEnabled else { return }
        readsEnabled = false
        updateInterest()
    }

    public func resumeReads() {
        guard !readsEnabled else { return }
        readsEnabled = true
        updateInterest()
    }

    private func updateInterest() {
        guard isOpen, connectCompletion == nil else { return }
        do {
            try loop.modify(fd, events: (readsEnabled ? EPOLLIN.rawValue : 0) | (awaitingWritable ? EPOLLOUT.rawValue : 0))
        } catch {
            // The socket can no longer be waited on as needed: it is closed rather than left stalled.
            close(error)
        }
    }

    func ready(_ events: UInt32) {
        if connectCompletion != nil {
            return finishConnect(socketError(reason: "connect").map { .failure($0) } ?? .success(()))
        }
        if events & EPOLLOUT.rawValue != 0 && awaitingWritable {
            writeQueued()
        }
        guard isOpen else { return }
        if events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            if readsEnabled {
                readOnce()
            } else if events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                // Reset while reads are held: nothing more can be read, and the loop would keep reporting it.
                close(socketError(reason: "read") ?? SocketError("read", errno: ECONNRESET))
            }
        }
    }

    private func readOnce() {
        var readError: Int32 = 0
        let (buffer, result) = loop.readBuffer.read { space in
            let result = recv(fd, space.baseAddress, space.count, 0)
            readError = errno
            return result
        }
        guard result > 0 else {
            if result == 0 { return close() }
            if readError == EAGAIN || readError == EWOULDBLOCK || readError == EINTR { return }
            return close(SocketError("read", errno: readError))
        }
        guard let delegate else { return }
        delegate.connectionRead(buffer)
        guard isOpen else { return }
        delegate.connectionReadComplete()
    }

    // MARK: Connecting and closing

    /// The error pending on the socket (`SO_ERROR`), if any, reported as happening in `reason`.
    private func socketError(reason: String) -> SocketError? {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else { return SocketError("getsockopt(SO_ERROR)", errno: errno) }
        return error == 0 ? nil : SocketError(reason, errno: error)
    }

    private func finishConnect(_ result: Result<Void, SocketError>) {
        guard let completion = connectCompletion else { return }
        connectCompletion = nil
        connectTimer?.cancel()
        connectTimer = nil
        switch result {
        case .success:
            awaitingWritable = false
            updateInterest()
            completion(.success(()))
        case .failure(let error):
            isOpen = false
            loop.unregisterAndClose(fd)
            completion(.failure(error))
        }
    }

    /// The loop is stopping: a connect in progress fails, an open connection closes.
    func loopShuttingDown() {
        let stopped = SocketError("event loop shut down", errno: ECANCELED)
        if connectCompletion != nil { return finishConnect(.failure(stopped)) }
        close(stopped)
    }

    /// Closes at once, dropping whatever is still queued; the delegate hears of it (once).
    public func close(_ error: SocketError? = nil) {
        guard isOpen else { return }
        isOpen = false
        queued.removeAll()
        queuedBytes = 0
        loop.unregisterAndClose(fd)
        let delegate = self.delegate
        self.delegate = nil
        delegate?.connectionClosed(error)
    }
}

@available(*, unavailable)
extension TCPConnection: Sendable {}
