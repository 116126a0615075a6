import CEpoll
import Glibc
import NIOCore
import Synchronization

/// A listening TCP socket served by every loop of an `EpollLoopGroup`: each loop waits on it with
/// `EPOLLEXCLUSIVE` (one loop is woken per new connection, as nginx does) and keeps the connections it accepts.
final class TCPListener: Sendable {
    let localAddress: SocketAddress
    private let fd: Int32
    private let loops: [EpollLoop]
    private let stillRegistered: Atomic<Int>
    private let closed = Atomic(false)

    /// Binds and listens; `onAccept` is called on the loop that accepted, with the new connection.
    init(host: String, port: Int, backlog: Int32, loops: [EpollLoop], onAccept: @escaping @Sendable (TCPConnection) -> Void) throws {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let fd = address.makeNonBlockingStreamSocket()
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let error = IOError(errnoCode: errno, reason: "bind \(address)")
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
        localAddress = SocketAddress.of(socket: fd, peer: false, host: host) ?? address
        self.loops = loops
        stillRegistered = Atomic(loops.count)
        for loop in loops {
            loop.execute { [self] in Acceptor(listener: self, loop: loop, onAccept: onAccept).register() }
        }
    }

    /// Stops accepting: every loop forgets the socket, the last one closes it. Returns once no loop can
    /// accept any more, so a connection accepted before is already known to whoever tracks them.
    func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for loop in loops {
            try? await loop.submit { [self] in
                if stillRegistered.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                    loop.unregisterAndClose(fd)
                } else {
                    loop.unregister(fd)
                }
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

        init(listener: TCPListener, loop: EpollLoop, onAccept: @escaping @Sendable (TCPConnection) -> Void) {
            self.listener = listener
            self.loop = loop
            self.onAccept = onAccept
        }

        func register() {
            loop.register(listener.fd, self, events: EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue)
        }

        func ready(_ events: UInt32) {
            for _ in 0..<Self.maxAcceptsPerWake {
                let client = cepoll_accept(listener.fd)
                guard client >= 0 else {
                    // EAGAIN: another loop took it, or none is left.
                    if [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(errno) { pauseAccepting() }
                    return
                }
                onAccept(TCPConnection.accepted(client, on: loop))
            }
        }

        /// Out of file descriptors: the pending connection stays readable, so waiting on it again at once
        /// would spin. This loop stops accepting for a moment, as nginx does (`accept_mutex_delay`).
        private func pauseAccepting() {
            loop.unregister(listener.fd)
            loop.assumeIsolated().scheduleTask(in: .milliseconds(100)) { [self] in
                if !listener.closed.load(ordering: .relaxed) { register() }
            }
        }
    }
}
