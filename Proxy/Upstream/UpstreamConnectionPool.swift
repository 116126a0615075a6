import Glibc
import NIOCore

/// The keep-alive connections of one event loop to each backend: idle ones, connects in flight, and
/// exchanges waiting for a connection.
///
/// One pool per event loop, used only on that loop: a client connection always takes its upstream
/// connections from its own loop, so an exchange never crosses threads and the pool needs no lock.
/// - Idle connections are reused most recently used first (the least likely to have been closed by the
///   backend's idle timeout); at most `maxIdlePerBackend` are kept.
/// - At most `maxConnecting` connects per backend are in flight; further requests wait for the next
///   connection that opens or comes free. Without this, a burst of new clients (wrk -c1000 starting)
///   fires hundreds of SYNs at once, loopback drops some, and those connects wait a 1 s retransmit.
final class UpstreamConnectionPool {
    struct Settings: Sendable {
        var connectTimeout: TimeAmount
        var backendTimeout: TimeAmount
        var maxIdlePerBackend: Int
        /// A parked connection unused this long is closed (nginx's upstream `keepalive_timeout`).
        var idleTimeout: TimeAmount = .seconds(60)
        var maxConnecting = 16
    }

    /// Called with a connection, or the connect failure that also ends the wait.
    typealias Waiter = (Result<UpstreamConnection, any Error>) -> Void

    let eventLoop: EpollLoop
    private let settings: Settings
    private var idle: [BackendAddress: [UpstreamConnection]] = [:]
    private var connecting: [BackendAddress: Int] = [:]
    private var waiters: [BackendAddress: [Waiter]] = [:]
    /// Resolved once per backend.
    private var addresses: [BackendAddress: SocketAddress] = [:]
    private var sweep: Scheduled<Void>?

    /// Call on `eventLoop`.
    init(eventLoop: EpollLoop, settings: Settings) {
        self.eventLoop = eventLoop
        self.settings = settings
        scheduleSweep()
    }

    private func scheduleSweep() {
        sweep = eventLoop.assumeIsolated().scheduleTask(in: .seconds(5)) { [self] in
            closeIdle(olderThan: settings.idleTimeout)
            scheduleSweep()
        }
    }

    /// A parked connection to `backend`, if one is open.
    func take(_ backend: BackendAddress) -> UpstreamConnection? {
        while let connection = idle[backend]?.popLast() {
            if connection.isActive { return connection }
        }
        return nil
    }

    /// Calls `waiter` with the first connection to `backend` that opens or comes free, opening one if fewer
    /// than `maxConnecting` are opening. A waiter whose client left meanwhile hands its connection back.
    func wait(for backend: BackendAddress, _ waiter: @escaping Waiter) {
        waiters[backend, default: []].append(waiter)
        if connecting[backend, default: 0] < settings.maxConnecting { startConnect(backend) }
    }

    private func startConnect(_ backend: BackendAddress) {
        connecting[backend, default: 0] += 1
        connect(backend) { [self] result in
            connecting[backend, default: 1] -= 1
            switch result {
            case .success(let connection):
                park(connection)
            case .failure(let error):
                // Refused or timed out: every waiter for this backend learns it now and can try another.
                let failed = waiters.removeValue(forKey: backend) ?? []
                for waiter in failed { waiter(.failure(error)) }
            }
        }
    }

    /// Opens a new connection to `backend`.
    private func connect(_ backend: BackendAddress, completion: @escaping (Result<UpstreamConnection, any Error>) -> Void) {
        let address: SocketAddress
        do {
            address = try self.address(of: backend)
        } catch {
            return completion(.failure(error))
        }
        TCPConnection.connect(to: address, on: eventLoop, timeout: settings.connectTimeout) { [self] result in
            completion(
                result.map { connection in
                    let upstream = UpstreamConnection(backend: backend, connection: connection, timeout: settings.backendTimeout)
                    upstream.pool = self
                    return upstream
                }
            )
        }
    }

    /// Hands `connection` to the first waiting exchange, or keeps it for the next one, or closes it when
    /// enough are kept.
    func park(_ connection: UpstreamConnection) {
        let backend = connection.backend
        if let waiter = waiters[backend]?.first {
            // In place: a copy of the queue would be an allocation per hand-over.
            waiters[backend]?.removeFirst()
            if waiters[backend]?.isEmpty == true {
                waiters[backend] = nil
            } else if connecting[backend, default: 0] < settings.maxConnecting {
                startConnect(backend)
            }
            waiter(.success(connection))
            return
        }
        guard idle[connection.backend, default: []].count < settings.maxIdlePerBackend else {
            connection.close()
            return
        }
        connection.parkedAt = .now()
        idle[connection.backend, default: []].append(connection)
    }

    /// Forgets a connection the backend closed.
    func remove(_ connection: UpstreamConnection) {
        idle[connection.backend]?.removeAll { $0 === connection }
    }

    /// Closes every parked connection and stops the sweep (the listener is shutting down).
    func closeAll() {
        sweep?.cancel()
        sweep = nil
        closeIdle(olderThan: .zero)
    }

    private func closeIdle(olderThan age: TimeAmount) {
        let cutoff = NIODeadline.now() - age
        for (backend, list) in idle {
            let (old, kept) = (list.filter { $0.parkedAt <= cutoff }, list.filter { $0.parkedAt > cutoff })
            idle[backend] = kept.isEmpty ? nil : kept
            for connection in old { connection.close() }
        }
    }

    /// A literal IP is used as is; a name is resolved once, on first use, as nginx does for an upstream
    /// without a `resolver`: this blocks the loop for that one lookup (usually /etc/hosts or a container's DNS).
    private func address(of backend: BackendAddress) throws -> SocketAddress {
        if let known = addresses[backend] { return known }
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: backend.host, port: backend.port)
        } catch {
            do {
                address = try SocketAddress.makeAddressResolvingHost(backend.host, port: backend.port)
            } catch {
                // A connect failure to the retry rules and health: nothing was sent.
                throw IOError(errnoCode: EHOSTUNREACH, reason: "cannot resolve \(backend.host): \(error)")
            }
        }
        addresses[backend] = address
        return address
    }
}

@available(*, unavailable)
extension UpstreamConnectionPool: Sendable {}
