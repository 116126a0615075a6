import CEpoll
import Dispatch
import Foundation
import Glibc
import NIOCore
import Synchronization

/// Something registered with an `EpollLoop` for the readiness of one file descriptor.
protocol EpollHandler: AnyObject {
    /// Called on the loop with the `EPOLL*` bits that are ready.
    func ready(_ events: UInt32)
}

/// One thread waiting in `epoll_wait` and calling the handlers of the file descriptors that are ready:
/// the proxy's data path runs here, with no channel pipeline between a socket and the code that parses it.
///
/// It is a NIO `EventLoop` as well (tasks, timers, promises), so the rest of the proxy's NIO-based code
/// (`DeadlineTimer`, `NIOLoopBound`, futures) runs on it unchanged.
///
/// Why its own loop rather than SwiftNIO's: measured here, a SwiftNIO byte relay that does no HTTP at all
/// costs about what nginx's whole proxy costs per request, so HTTP work on top of NIO's channels could not
/// match nginx (the same proxy on them cost 1.3–1.8 × nginx's CPU); on this loop it costs about as much as
/// nginx (README, "Against what users pick instead").
///
/// `@unchecked Sendable`: the loop-confined state (`handlers`, `timers`, `closingFDs`, `turnHooks`,
/// `readBuffers`) is touched only on the loop's own thread (every method using it is documented "on the loop"
/// and asserts so in debug builds); other threads reach the loop only through `execute`, whose queue is a
/// `Mutex`, and the wake-up eventfd.
final class EpollLoop: EventLoop, @unchecked Sendable {
    let name: String
    private let epollFD: Int32
    private let wakeFD: Int32
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    private let threadID = Atomic<UInt>(0)

    // Loop-confined.
    private var handlers: [(any EpollHandler)?] = []
    private var timers = TimerQueue()
    /// Closed at the end of the current batch of events, so a number is not reused while events for it are pending.
    private var closingFDs: [Int32] = []
    private var turnHooks: [(id: Int, hook: () -> Void)] = []
    private var turnHooksAdded = 0
    /// The buffers every read on this loop goes into: one that its last reader let go of is read into again.
    var readBuffers = NIOPooledRecvBufferAllocator(capacity: 4, recvAllocator: AdaptiveRecvByteBufferAllocator())
    let allocator = ByteBufferAllocator()

    init(name: String) {
        self.name = name
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(epollFD >= 0 && wakeFD >= 0, "epoll_create1/eventfd failed: errno \(errno)")
        control(EPOLL_CTL_ADD, wakeFD, events: EPOLLIN.rawValue)
    }

    /// Starts the loop's thread; it runs for the life of the process, as NIO's singleton group does.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    // MARK: Registration (on the loop)

    /// Calls `hook` at the end of every turn of the loop (after its events, tasks and timers), until
    /// `removeTurnHook` is called with the id returned.
    func onEachTurn(_ hook: @escaping () -> Void) -> Int {
        assertInLoop()
        turnHooksAdded += 1
        turnHooks.append((turnHooksAdded, hook))
        return turnHooksAdded
    }

    func removeTurnHook(_ id: Int) {
        assertInLoop()
        turnHooks.removeAll { $0.id == id }
    }

    func register(_ fd: Int32, _ handler: any EpollHandler, events: UInt32) {
        assertInLoop()
        let index = Int(fd)
        if index >= handlers.count { handlers.append(contentsOf: repeatElement(nil, count: max(index + 1 - handlers.count, 1024))) }
        handlers[index] = handler
        control(EPOLL_CTL_ADD, fd, events: events)
    }

    func modify(_ fd: Int32, events: UInt32) {
        assertInLoop()
        control(EPOLL_CTL_MOD, fd, events: events)
    }

    private func control(_ operation: Int32, _ fd: Int32, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        epoll_ctl(epollFD, operation, fd, &event)
    }

    /// Forgets `fd`, which stays open (a listening socket other loops still wait on).
    func unregister(_ fd: Int32) {
        assertInLoop()
        epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        if Int(fd) < handlers.count { handlers[Int(fd)] = nil }
    }

    /// Forgets `fd` and closes it once the current batch of events is handled.
    func unregisterAndClose(_ fd: Int32) {
        unregister(fd)
        closingFDs.append(fd)
    }

    // MARK: The loop

    private func run() {
        threadID.store(pthread_self(), ordering: .releasing)
        let capacity = 512
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        while true {
            // A task queued from the loop itself wrote no wake-up: the wait must not block then.
            let tasksWaiting = inbox.withLock { !$0.isEmpty }
            let timeout = tasksWaiting ? 0 : timers.millisecondsUntilNext(now: .now())
            let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
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
            let now = NIODeadline.now()
            while let due = timers.popDue(now: now) { due.run() }
            for (_, hook) in turnHooks { hook() }
            for fd in closingFDs { Glibc.close(fd) }
            closingFDs.removeAll(keepingCapacity: true)
        }
    }

    private func drainWakeups() {
        var value: UInt64 = 0
        _ = read(wakeFD, &value, 8)
    }

    private func runTasks() {
        let tasks = inbox.withLock { tasks -> [@Sendable () -> Void] in
            guard !tasks.isEmpty else { return [] }
            defer { tasks.removeAll(keepingCapacity: true) }
            return tasks
        }
        for task in tasks { task() }
    }

    @inline(__always) private func assertInLoop() {
        assert(inEventLoop, "called off the loop \(name)")
    }

    // MARK: EventLoop

    var inEventLoop: Bool {
        threadID.load(ordering: .acquiring) == pthread_self()
    }

    func execute(_ task: @escaping @Sendable () -> Void) {
        let wasEmpty = inbox.withLock { tasks in
            tasks.append(task)
            return tasks.count == 1
        }
        // On the loop the task runs at the end of the current batch; from elsewhere the loop must wake.
        if wasEmpty && !inEventLoop {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    @discardableResult
    func scheduleTask<T>(deadline: NIODeadline, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        let promise: EventLoopPromise<T> = makePromise()
        let entry = TimerQueue.Entry {
            do { promise.assumeIsolated().succeed(try task()) } catch { promise.fail(error) }
        }
        let add: @Sendable () -> Void = { [self] in timers.add(entry, at: deadline) }
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
    func scheduleTask<T>(in delay: TimeAmount, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        scheduleTask(deadline: .now() + delay, task)
    }

    func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        // Lives as long as the process, like `MultiThreadedEventLoopGroup.singleton`.
        queue.async { callback(EventLoopError.unsupportedOperation) }
    }
}
