import CEpoll
import Glibc
public import NIOCore
import Synchronization

/// A listening TCP socket served by every loop of an `EpollLoopGroup`: each loop waits on it with
/// `EPOLLEXCLUSIVE` (one loop is woken per new connection, as nginx does) and keeps the connections it accepts.
public final class TCPListener: Sendable {
    public let localAddress: SocketAddress
    private let fd: Int32
    private let loops: [EpollLoop]
    private let stillRegistered: Atomic<Int>
    private let closed = Atomic(false)

    /// Binds and listens on every loop of `group`. `onAccept` is called on the loop that accepted, with the
    /// new connection; `onError` with an accept or registration failure, which pauses that loop's accepting.
    /// Binding happens at once; name resolution of `host`, if it is not a literal, blocks the caller.
    public init(
        host: String,
        port: Int,
        backlog: Int32,
        group: EpollLoopGroup,
        onError: @escaping @Sendable (SocketError) -> Void,
        onAccept: @escaping @Sendable (TCPConnection) -> Void
    ) throws {
        let address = try HostResolver.addresses(of: host, port: port)[0]
        let fd = address.makeNonBlockingStreamSocket()
        guard fd >= 0 else { throw SocketError("socket", errno: errno) }
        var one: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let error = SocketError("setsockopt(SO_REUSEADDR)", errno: errno)
            Glibc.close(fd)
            throw error
        }
        let bound = address.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let error = SocketError(bound == 0 ? "listen \(address)" : "bind \(address)", errno: errno)
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
        localAddress = SocketAddress.of(socket: fd, peer: false, host: host) ?? address
        self.loops = group.loops
        stillRegistered = Atomic(loops.count)
        for loop in loops {
            loop.execute { [self] in Acceptor(listener: self, loop: loop, onAccept: onAccept, onError: onError).register() }
        }
    }

    /// Stops accepting: every loop forgets the socket, the last one closes it. Returns once no loop can
    /// accept any more, so a connection accepted before is already known to whoever tracks them.
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for loop in loops {
            try? await loop.submit { [self] in
                // A loop that paused accepting has nothing registered to forget.
                loop.unregisterIfRegistered(fd)
                if stillRegistered.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { loop.closeLater(fd) }
            }.get()
        }
    }

    /// One loop's side of the listener.
    final class Acceptor: EpollHandler {
        /// Accepted per wake-up at most, so one loop does not take a whole burst of new clients (wrk -c1000
        /// starting) while the other stays idle.
        static let maxAcceptsPerWake = 32

        private let loop: EpollLoop
        private let listener: TCPListener
        private let onAccept: @Sendable (TCPConnection) -> Void
        private let onError: @Sendable (SocketError) -> Void
        private var registered = false

        init(
            listener: TCPListener,
            loop: EpollLoop,
            onAccept: @escaping @Sendable (TCPConnection) -> Void,
            onError: @escaping @Sendable (SocketError) -> Void
        ) {
            self.listener = listener
            self.loop = loop
            self.onAccept = onAccept
            self.onError = onError
        }

        func register() {
            guard !listener.closed.load(ordering: .relaxed) else { return }
            do {
                try loop.register(listener.fd, self, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
                registered = true
            } catch {
                onError(error)
                retryLater()
            }
        }

        func ready(_ events: UInt32) {
            for _ in 0..<Self.maxAcceptsPerWake {
                let client = cepoll_accept(listener.fd)
                guard client >= 0 else {
                    switch errno {
                    case EAGAIN, EWOULDBLOCK:
                        // Another loop took it, or none is left.
                        return
                    case EINTR, ECONNABORTED, EPROTO:
                        // That one connection is gone (or the call was interrupted); the next may be fine.
                        continue
                    default:
                        // Out of file descriptors or memory: the pending connection stays readable, so waiting
                        // on it again at once would spin. This loop stops accepting for a moment, as nginx
                        // does (`accept_mutex_delay`).
                        onError(SocketError("accept4", errno: errno))
                        pauseAccepting()
                        return
                    }
                }
                do {
                    onAccept(try TCPConnection.accepted(client, on: loop))
                } catch {
                    onError(error)
                }
            }
        }

        func loopShuttingDown() {
            registered = false
        }

        private func pauseAccepting() {
            if registered { loop.unregister(listener.fd) }
            registered = false
            retryLater()
        }

        private func retryLater() {
            loop.assumeIsolated().scheduleTask(in: .milliseconds(100)) { [self] in register() }
        }
    }
}
