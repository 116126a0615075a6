import EpollKit
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
    typealias Waiter = (Result<UpstreamConnection, BackendFailure>) -> Void

    /// What the pool keeps for one backend.
    private final class Slot {
        let backend: BackendAddress
        var idle: [UpstreamConnection] = []
        var connecting = 0
        var waiters: [Waiter] = []
        /// Resolved on first use, and again after a connect failure (a container may have moved).
        var addresses: [SocketAddress] = []

        init(backend: BackendAddress) {
            self.backend = backend
        }
    }

    let eventLoop: EpollLoop
    private let settings: Settings
    private let resolver: OffLoopResolver
    /// Found by a linear search: a handful of backends compare faster than a `String` hashes, and this
    /// runs twice per request.
    private var slots: [Slot] = []
    private var sweep: Scheduled<Void>?

    /// Call on `eventLoop`.
    init(eventLoop: EpollLoop, settings: Settings, resolver: OffLoopResolver) {
        self.eventLoop = eventLoop
        self.settings = settings
        self.resolver = resolver
        scheduleSweep()
    }

    private func scheduleSweep() {
        sweep = eventLoop.assumeIsolated().scheduleTask(in: .seconds(5)) { [self] in
            closeIdle(olderThan: settings.idleTimeout)
            scheduleSweep()
        }
    }

    private func slot(_ backend: BackendAddress) -> Slot {
        for slot in slots where slot.backend == backend { return slot }
        let slot = Slot(backend: backend)
        slots.append(slot)
        return slot
    }

    /// A parked connection to `backend`, if one is open.
    func take(_ backend: BackendAddress) -> UpstreamConnection? {
        let slot = slot(backend)
        while let connection = slot.idle.popLast() {
            if connection.isActive { return connection }
        }
        return nil
    }

    /// Calls `waiter` with the first connection to `backend` that opens or comes free, opening one if fewer
    /// than `maxConnecting` are opening. A waiter whose client left meanwhile hands its connection back.
    func wait(for backend: BackendAddress, _ waiter: @escaping Waiter) {
        let slot = slot(backend)
        slot.waiters.append(waiter)
        if slot.connecting < settings.maxConnecting { startConnect(slot) }
    }

    private func startConnect(_ slot: Slot) {
        slot.connecting += 1
        connect(slot) { [self] result in
            slot.connecting -= 1
            switch result {
            case .success(let connection):
                park(connection)
            case .failure(let error):
                slot.addresses = []
                // Refused or timed out: every waiter for this backend learns it now and can try another.
                let failed = slot.waiters
                slot.waiters = []
                for waiter in failed { waiter(.failure(error)) }
            }
        }
    }

    /// Opens a new connection to `slot`'s backend, trying its addresses in order until one connects. A name
    /// is resolved off the loop (`OffLoopResolver`), so a slow lookup delays only this backend's connects.
    private func connect(_ slot: Slot, completion: @escaping (Result<UpstreamConnection, BackendFailure>) -> Void) {
        guard slot.addresses.isEmpty else { return connect(slot, addresses: slot.addresses[...], completion: completion) }
        resolver.resolve(slot.backend.host, port: slot.backend.port, on: eventLoop) { [self] result in
            switch result {
            case .success(let addresses):
                slot.addresses = addresses
                connect(slot, addresses: addresses[...], completion: completion)
            case .failure(let error):
                completion(.failure(BackendFailure(error)))
            }
        }
    }

    private func connect(
        _ slot: Slot,
        addresses: ArraySlice<SocketAddress>,
        completion: @escaping (Result<UpstreamConnection, BackendFailure>) -> Void
    ) {
        guard let address = addresses.first else { return }
        TCPConnection.connect(to: address, on: eventLoop, timeout: settings.connectTimeout) { [self] result in
            switch result {
            case .success(let connection):
                let upstream = UpstreamConnection(backend: slot.backend, connection: connection, timeout: settings.backendTimeout)
                upstream.pool = self
                completion(.success(upstream))
            case .failure where addresses.count > 1:
                connect(slot, addresses: addresses.dropFirst(), completion: completion)
            case .failure(let error):
                completion(.failure(BackendFailure(error)))
            }
        }
    }

    /// Hands `connection` to the first waiting exchange, or keeps it for the next one, or closes it when
    /// enough are kept.
    func park(_ connection: UpstreamConnection) {
        let slot = slot(connection.backend)
        if !slot.waiters.isEmpty {
            let waiter = slot.waiters.removeFirst()
            if !slot.waiters.isEmpty && slot.connecting < settings.maxConnecting { startConnect(slot) }
            waiter(.success(connection))
            return
        }
        guard slot.idle.count < settings.maxIdlePerBackend else {
            connection.close()
            return
        }
        connection.parkedAt = eventLoop.turnTime
        slot.idle.append(connection)
    }

    /// Forgets a connection the backend closed.
    func remove(_ connection: UpstreamConnection) {
        slot(connection.backend).idle.removeAll { $0 === connection }
    }

    /// Closes every parked connection and stops the sweep (the listener is shutting down).
    func closeAll() {
        sweep?.cancel()
        sweep = nil
        closeIdle(olderThan: .zero)
    }

    private func closeIdle(olderThan age: TimeAmount) {
        let cutoff = NIODeadline.now() - age
        for slot in slots {
            let old = slot.idle.filter { $0.parkedAt <= cutoff }
            slot.idle.removeAll { $0.parkedAt <= cutoff }
            for connection in old { connection.close() }
        }
    }
}

@available(*, unavailable)
extension UpstreamConnectionPool: Sendable {}
