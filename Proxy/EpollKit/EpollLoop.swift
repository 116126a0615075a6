import CEpoll
import Dispatch
import Foundation
import Glibc
public import NIOCore
import Synchronization

/// Something registered with an `EpollLoop` for the readiness of one file descriptor.
protocol EpollHandler: AnyObject {
    /// Called on the loop with the `EPOLL*` bits that are ready.
    func ready(_ events: UInt32)
    /// The loop is shutting down with this handler still registered: it closes what it owns and tells its user.
    func loopShuttingDown()
}

/// One thread waiting in `epoll_wait` and calling the handlers of the file descriptors that are ready:
/// the proxy's data path runs here, with no channel pipeline between a socket and the code that parses it.
///
/// It conforms to NIO's `EventLoop` (tasks, timers, promises) for what that buys in reuse: `DeadlineTimer`,
/// `NIOLoopBound`, `submit` and futures, and `NIOThreadPool.runIfActive` handing name resolution back, all
/// work on it unchanged. It is not a NIO channel loop: no `Channel` runs on it, and its sockets are
/// `TCPConnection`s, whose errors are `SocketError`s.
///
/// `@unchecked Sendable`: the loop-confined state (`handlers`, `timers`, `closingFDs`, `turnHooks`,
/// `readBuffer`, `running`, `turnTime`) is touched only on the loop's own thread (every method using it is documented
/// "on the loop" and asserts so in debug builds); other threads reach the loop only through `execute`, whose
/// queue (`LoopInbox`) is behind a lock, and the wake-up eventfd.
public final class EpollLoop: EventLoop, @unchecked Sendable {
    public let name: String
    private let epollFD: Int32
    private let wakeFD: Int32
    private let inbox = LoopInbox()
    private let threadID = Atomic<UInt>(0)

    /// Held while a task sent after the stop runs on its sender's thread (see `execute`).
    private let lateTasks = Mutex(())

    // Loop-confined.
    private var running = true
    private var handlers: [(any EpollHandler)?] = []
    private var timers = TimerQueue()
    /// Closed at the end of the current batch of events, so a number is not reused while events for it are pending.
    private var closingFDs: [Int32] = []
    private var turnHooks: [(id: Int, hook: () -> Void)] = []
    private var turnHooksAdded = 0
    public let allocator = ByteBufferAllocator()
    /// A buffer with no bytes, for code on this loop to let go of one by assigning it. `ByteBuffer()` is one
    /// storage shared by every thread, so assigning it on both loops would write to one reference count from
    /// two cores; this one's storage belongs to the loop.
    public let emptyBuffer: ByteBuffer
    /// The buffer every read on this loop goes into: read into again once its last reader has let go of it.
    var readBuffer: LoopReadBuffer

    /// Creates the loop's epoll instance and wake-up eventfd; `start()` runs it.
    public init(name: String) throws(SocketError) {
        self.name = name
        readBuffer = LoopReadBuffer(allocator: allocator)
        // A capacity of zero would give the shared storage of `ByteBuffer()`.
        emptyBuffer = allocator.buffer(capacity: 1)
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SocketError("epoll_create1", errno: errno) }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            let error = SocketError("eventfd", errno: errno)
            Glibc.close(epollFD)
            throw error
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeFD
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0 else {
            let error = SocketError("epoll_ctl(ADD eventfd)", errno: errno)
            Glibc.close(wakeFD)
            Glibc.close(epollFD)
            throw error
        }
    }

    /// Starts the loop's thread, which runs until `shutdown()`.
    public func start() {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Stops the loop after the tasks already queued: timers still pending are failed, sockets still
    /// registered are closed (their users hear of it), and the thread exits. Returns once it has.
    public func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if inbox.onStop({ continuation.resume() }) {
                execute { [self] in running = false }
            } else {
                continuation.resume()
            }
        }
    }

    /// The time the loop last read the clock: when `epoll_wait` returned, and again before the due timers
    /// run. Reading it costs no clock read; it trails the real time by at most the work of one turn, so it
    /// suits deadlines (timeouts of seconds) set many times per request, not measurements. nginx keeps its
    /// time per loop iteration the same way. Read on the loop.
    public private(set) var turnTime = NIODeadline.now()

    // MARK: Registration (on the loop)

    /// Calls `hook` at the end of every turn of the loop (after its events, tasks and timers), until
    /// `removeTurnHook` is called with the id returned.
    public func onEachTurn(_ hook: @escaping () -> Void) -> Int {
        assertInLoop()
        turnHooksAdded += 1
        turnHooks.append((turnHooksAdded, hook))
        return turnHooksAdded
    }

    public func removeTurnHook(_ id: Int) {
        assertInLoop()
        turnHooks.removeAll { $0.id == id }
    }

    func register(_ fd: Int32, _ handler: any EpollHandler, events: UInt32) throws(SocketError) {
        assertInLoop()
        try control(EPOLL_CTL_ADD, fd, events: events, "epoll_ctl(ADD)")
        let index = Int(fd)
        if index >= handlers.count { handlers.append(contentsOf: repeatElement(nil, count: max(index + 1 - handlers.count, 1024))) }
        handlers[index] = handler
    }

    func modify(_ fd: Int32, events: UInt32) throws(SocketError) {
        assertInLoop()
        try control(EPOLL_CTL_MOD, fd, events: events, "epoll_ctl(MOD)")
    }

    private func control(_ operation: Int32, _ fd: Int32, events: UInt32, _ name: String) throws(SocketError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        guard epoll_ctl(epollFD, operation, fd, &event) == 0 else { throw SocketError(name, errno: errno) }
    }

    /// Forgets `fd`, which stays open (a listening socket other loops still wait on).
    func unregister(_ fd: Int32) {
        assertInLoop()
        // Only a descriptor this loop registered comes here, so EBADF or ENOENT is a bug in the caller.
        if epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil) != 0 {
            assertionFailure("\(SocketError("epoll_ctl(DEL) of fd \(fd)", errno: errno))")
        }
        if Int(fd) < handlers.count { handlers[Int(fd)] = nil }
    }

    /// Forgets `fd` if a handler is registered for it.
    func unregisterIfRegistered(_ fd: Int32) {
        assertInLoop()
        if Int(fd) < handlers.count && handlers[Int(fd)] != nil { unregister(fd) }
    }

    /// Forgets `fd` and closes it once the current batch of events is handled.
    func unregisterAndClose(_ fd: Int32) {
        unregister(fd)
        closingFDs.append(fd)
    }

    /// Closes `fd`, never registered, once the current batch of events is handled.
    func closeLater(_ fd: Int32) {
        assertInLoop()
        closingFDs.append(fd)
    }

    // MARK: The loop

    private func run() {
        threadID.store(pthread_self(), ordering: .releasing)
        // Foundation's `Thread.name` does not reach the kernel here; the name shows in `top -H` and `/proc`.
        _ = cepoll_name_thread(String(decoding: name.utf8.prefix(15), as: UTF8.self))
        let capacity = 512
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while running {
            // A task queued from the loop itself wrote no wake-up: the wait must not block then.
            let timeout = inbox.hasTasks ? 0 : timers.millisecondsUntilNext(now: turnTime)
            let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
            if count < 0 && errno != EINTR {
                preconditionFailure("\(SocketError("epoll_wait", errno: errno))")
            }
            turnTime = .now()
            if count > 0 {
                for index in 0..<Int(count) {
                    let fd = cepoll_event_fd(events + index)
                    if fd == wakeFD {
                        drainWakeups()
                        continue
                    }
                    guard Int(fd) < handlers.count, let handler = handlers[Int(fd)] else { continue }
                    handler.ready(events[index].events)
                }
            }
            runTasks()
            turnTime = .now()
            while let due = timers.popDue(now: turnTime) { due.run() }
            for (_, hook) in turnHooks { hook() }
            closePending()
        }
        stop()
    }

    /// The end of the loop: what is still registered is closed, what is still scheduled fails, and every
    /// task queued before the stop runs.
    private func stop() {
        for case let handler? in handlers { handler.loopShuttingDown() }
        handlers = []
        turnHooks = []
        // Once stopped, `execute` runs a task on its caller's thread, so the inbox is complete here and
        // every task in it runs; a timer set by one of them fails at once (see `scheduleTask`).
        let onStopped = inbox.stop()
        runTasks()
        timers.abandonAll()
        closePending()
        Glibc.close(wakeFD)
        Glibc.close(epollFD)
        for callback in onStopped { callback() }
    }

    private func closePending() {
        for fd in closingFDs { Glibc.close(fd) }
        closingFDs.removeAll(keepingCapacity: true)
    }

    private func drainWakeups() {
        var value: UInt64 = 0
        // EAGAIN: another read already took the count; nothing else can fail on our own eventfd.
        if read(wakeFD, &value, 8) < 0 && errno != EAGAIN {
            preconditionFailure("\(SocketError("read(eventfd)", errno: errno))")
        }
    }

    private func runTasks() {
        for task in inbox.takeAll() { task() }
    }

    @inline(__always) private func assertInLoop() {
        assert(inEventLoop, "called off the loop \(name)")
    }

    // MARK: EventLoop

    public var inEventLoop: Bool {
        threadID.load(ordering: .acquiring) == pthread_self()
    }

    /// Runs `task` on the loop. Once the loop has stopped, a task runs on the caller's thread, one at a time
    /// and seen as on the loop (its thread has ended, so nothing else touches the loop's state): futures of
    /// a stopped loop still complete, as NIO's callbacks always hop through `execute`.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        guard case .queued(let wake) = inbox.enqueue(task) else {
            lateTasks.withLock { _ in
                let loopThread = threadID.exchange(pthread_self(), ordering: .acquiringAndReleasing)
                task()
                threadID.store(loopThread, ordering: .releasing)
            }
            return
        }
        // On the loop the task runs at the end of the current batch; from elsewhere the loop must wake.
        guard wake && !inEventLoop else { return }
        var one: UInt64 = 1
        // EAGAIN: the counter is at its maximum, so the loop is woken anyway.
        if write(wakeFD, &one, 8) < 0 && errno != EAGAIN {
            preconditionFailure("\(SocketError("write(eventfd)", errno: errno))")
        }
    }

    @discardableResult
    public func scheduleTask<T>(deadline: NIODeadline, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        let promise: EventLoopPromise<T> = makePromise()
        let entry = TimerQueue.Entry(
            fire: { do { promise.assumeIsolated().succeed(try task()) } catch { promise.fail(error) } },
            abandon: { promise.fail(EventLoopError.shutdown) }
        )
        // A stopped loop never turns its timer heap again, so a timer set on it fails at once, as the
        // pending ones did when it stopped.
        let add: @Sendable () -> Void = { [self] in
            if inbox.isStopped { entry.abandonIfPending() } else { timers.add(entry, at: deadline) }
        }
        if inEventLoop { add() } else { execute(add) }
        return Scheduled(promise: promise) { [self] in
            let cancel: @Sendable () -> Void = { [self] in
                if entry.cancel() {
                    timers.noteCancelled()
                    promise.fail(EventLoopError.cancelled)
                }
            }
            if inEventLoop { cancel() } else { execute(cancel) }
        }
    }

    @discardableResult
    public func scheduleTask<T>(in delay: TimeAmount, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        scheduleTask(deadline: .now() + delay, task)
    }

    public func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        Task {
            await shutdown()
            queue.async { callback(nil) }
        }
    }
}
