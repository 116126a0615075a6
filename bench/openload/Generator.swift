import NIOCore
import NIOHTTP1
import NIOPosix

/// Runs one load plan against one target on one event loop and records every request.
///
/// All state is confined to `loop`: requests are started by its timer, answers arrive on its channels,
/// so nothing here needs a lock and nothing can reorder a start behind an answer.
final class Generator {
    struct Settings: Sendable {
        var target: Target
        var plan: LoadPlan
        /// How long requests are started, nanoseconds.
        var duration: Int64
        /// How long after its intended start a request may take before it counts as a timeout, nanoseconds.
        var timeout: Int64
        /// Open loop: connections opened before the first request is due, so the first second of the
        /// schedule does not pay for connection set-up that a steady state would not.
        var warmConnections = 0
    }

    private let loop: any EventLoop
    private let settings: Settings
    private let requestHead: HTTPRequestHead
    private let done: EventLoopPromise<Void>
    private var start = NIODeadline.now()
    /// Every request of the run, in the order they were due.
    private(set) var records: [RequestRecord] = []
    private var idle: [Connection] = []
    private var connections: [ObjectIdentifier: Connection] = [:]
    private var open = 0
    private(set) var peakOpen = 0
    private(set) var connectionsOpened = 0
    private var outstanding = 0
    private var nextDue = 0
    private var sending = true
    private var finished = false
    private var warming = 0

    init(loop: any EventLoop, settings: Settings) {
        self.loop = loop
        self.settings = settings
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: settings.target.hostHeader)
        headers.add(name: "User-Agent", value: "cityscape-openload")
        requestHead = HTTPRequestHead(version: .http1_1, method: .GET, uri: settings.target.path, headers: headers)
        done = loop.makePromise()
    }

    /// Starts the run; the future completes when every request has an outcome and every connection is closed.
    func run() -> EventLoopFuture<Void> {
        guard case .openLoop = settings.plan, settings.warmConnections > 0 else {
            begin()
            return done.futureResult
        }
        warming = settings.warmConnections
        for _ in 0..<settings.warmConnections { openConnection(carrying: nil) }
        return done.futureResult
    }

    /// A warm-up connection is open (or failed): the schedule starts once all of them are settled.
    private func warmed() {
        warming -= 1
        if warming == 0 { begin() }
    }

    private func begin() {
        start = .now()
        switch settings.plan {
        case .openLoop(let rate, _):
            let count = LoadPlan.scheduledCount(rate: rate, duration: settings.duration)
            records.reserveCapacity(count)
            for index in 0..<count {
                records.append(RequestRecord(intended: LoadPlan.intendedStart(of: index, rate: rate)))
            }
            startDueRequests()
        case .closedLoop(let lanes):
            for _ in 0..<lanes { startNextInClosedLoop(reusing: nil) }
        }
        // A backstop: whatever the server does, the run ends one timeout after the last start.
        loop.assumeIsolated().scheduleTask(deadline: start + .nanoseconds(settings.duration + settings.timeout) + .seconds(1)) {
            self.abandonOutstanding()
        }
    }

    private func now() -> Int64 {
        (NIODeadline.now() - start).nanoseconds
    }

    // MARK: Starting requests

    /// Open loop: starts every request that is due, then sleeps until the next one is.
    private func startDueRequests() {
        let elapsed = now()
        while nextDue < records.count, records[nextDue].intended <= elapsed {
            assign(nextDue, to: idle.popLast())
            nextDue += 1
        }
        if nextDue < records.count {
            loop.assumeIsolated().scheduleTask(deadline: start + .nanoseconds(records[nextDue].intended)) {
                self.startDueRequests()
            }
        } else {
            sending = false
            finishIfDone()
        }
    }

    /// Closed loop: the next request of a lane, on its connection when that is still usable.
    private func startNextInClosedLoop(reusing connection: Connection?) {
        let elapsed = now()
        guard elapsed < settings.duration else {
            if let connection { close(connection) }
            sending = false
            finishIfDone()
            return
        }
        records.append(RequestRecord(intended: elapsed))
        assign(records.count - 1, to: connection)
    }

    /// Puts a request on `connection` (an idle keep-alive one), or on a new connection.
    private func assign(_ index: Int, to connection: Connection?) {
        outstanding += 1
        if let connection, connection.state == .idle {
            armTimeout(index, on: connection)
            send(index, on: connection)
            return
        }
        if case .openLoop(_, let maxConnections) = settings.plan, open >= maxConnections {
            records[index].ended = now()
            records[index].outcome = .overflow
            requestEnded(reusing: nil)
            return
        }
        armTimeout(index, on: openConnection(carrying: index))
    }

    /// Opens a connection for request `index`, or an idle warm-up one when `index` is nil.
    @discardableResult
    private func openConnection(carrying index: Int?) -> Connection {
        let connection = Connection()
        connection.request = index
        connection.isWarmUp = index == nil
        open += 1
        connectionsOpened += 1
        peakOpen = max(peakOpen, open)
        ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(settings.timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHTTPClientHandlers() }
            }
            .connect(to: settings.target.address)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel): self.connected(connection, channel: channel)
                case .failure: self.connectFailed(connection)
                }
            }
        return connection
    }

    private func armTimeout(_ index: Int, on connection: Connection) {
        // `connection.request` is what the timeout checks; a warm connection has none yet.
        connection.request = index
        let deadline = start + .nanoseconds(records[index].intended + settings.timeout)
        connection.timeout = loop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timedOut(index, on: connection)
        }
    }

    private func send(_ index: Int, on connection: Connection) {
        guard let channel = connection.channel else { return }
        connection.state = .busy
        connection.request = index
        records[index].started = now()
        channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    // MARK: Connection events

    private func connected(_ connection: Connection, channel: any Channel) {
        connection.channel = channel
        channel.closeFuture.assumeIsolated().whenComplete { _ in self.closed(connection) }
        let warm = connection.isWarmUp
        connection.isWarmUp = false
        defer { if warm { warmed() } }
        guard connection.state == .connecting else {
            // Timed out while connecting: the request already has its outcome.
            channel.close(promise: nil)
            return
        }
        connections[ObjectIdentifier(connection)] = connection
        do {
            try channel.pipeline.syncOperations.addHandler(ResponseReader(generator: self, connection: connection))
        } catch {
            channel.close(promise: nil)
            return
        }
        if let index = connection.request {
            send(index, on: connection)
        } else {
            connection.state = .idle
            idle.append(connection)
        }
    }

    private func connectFailed(_ connection: Connection) {
        release(connection)
        let previous = connection.state
        connection.state = .closed
        if connection.isWarmUp {
            connection.isWarmUp = false
            warmed()
            return
        }
        guard previous == .connecting, let index = connection.request else { return }
        end(index, on: connection, outcome: .connectError)
        requestEnded(reusing: nil)
    }

    /// A whole answer on `connection`.
    func answered(on connection: Connection, status: Int, timing: ServerTimingParts, keepAlive: Bool) {
        guard connection.state == .busy, let index = connection.request else { return }
        records[index].timing = timing
        end(index, on: connection, outcome: .status(status))
        if keepAlive {
            connection.state = .idle
            requestEnded(reusing: connection)
        } else {
            close(connection)
            requestEnded(reusing: nil)
        }
    }

    /// The channel closed, by either side.
    private func closed(_ connection: Connection) {
        release(connection)
        connections[ObjectIdentifier(connection)] = nil
        let previous = connection.state
        connection.state = .closed
        if previous == .idle { idle.removeAll { $0 === connection } }
        if previous == .busy, let index = connection.request {
            end(index, on: connection, outcome: .readError)
            requestEnded(reusing: nil)
        }
        finishIfDone()
    }

    private func timedOut(_ index: Int, on connection: Connection) {
        guard connection.request == index, connection.state == .busy || connection.state == .connecting else { return }
        end(index, on: connection, outcome: .timeout)
        // The answer may still come; only a fresh connection is certain to carry the next request cleanly.
        close(connection)
        requestEnded(reusing: nil)
    }

    // MARK: Ending requests and the run

    private func end(_ index: Int, on connection: Connection, outcome: Outcome) {
        connection.timeout?.cancel()
        connection.timeout = nil
        connection.request = nil
        records[index].ended = now()
        records[index].outcome = outcome
    }

    private func requestEnded(reusing connection: Connection?) {
        outstanding -= 1
        switch settings.plan {
        case .openLoop:
            if let connection, connection.state == .idle { idle.append(connection) }
            finishIfDone()
        case .closedLoop:
            startNextInClosedLoop(reusing: connection)
        }
    }

    private func close(_ connection: Connection) {
        let previous = connection.state
        connection.state = .closed
        if previous == .idle { idle.removeAll { $0 === connection } }
        connection.channel?.close(promise: nil)
    }

    private func release(_ connection: Connection) {
        guard !connection.released else { return }
        connection.released = true
        open -= 1
    }

    private func finishIfDone() {
        guard !sending, outstanding == 0, !finished else { return }
        for connection in idle { close(connection) }
        idle.removeAll()
        if open == 0 {
            finished = true
            done.succeed()
        }
    }

    /// The backstop: anything still pending counts as a timeout, every connection is closed.
    private func abandonOutstanding() {
        guard !finished else { return }
        sending = false
        let started: Int
        if case .openLoop = settings.plan { started = nextDue } else { started = records.count }
        for index in 0..<started where records[index].outcome == .pending {
            records[index].outcome = .timeout
            records[index].ended = now()
        }
        outstanding = 0
        for connection in connections.values { close(connection) }
        finished = true
        done.succeed()
    }
}
