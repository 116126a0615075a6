import Dispatch
import Foundation
import Synchronization

/// One real OS thread that owns one `CurlEasy` and runs the jobs given to it, in order.
///
/// The thread sleeps on a semaphore between jobs. Only the request that leased the thread submits
/// jobs (see ``CurlWorkerPool``), so the mailbox rarely holds more than one.
final class CurlWorkerThread: Sendable {
    /// Work for the thread; it receives the thread's handle, which never leaves the thread.
    typealias Job = @Sendable (CurlEasy?) -> Void

    private struct Mailbox {
        var jobs: [Job] = []
        var stopping = false
    }

    private let mailbox = Mutex(Mailbox())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)

    /// Starts the thread; it creates its handle first thing, on itself.
    init(name: String, caFile: String?) {
        let thread = Thread { [self] in
            self.loop(caFile: caFile)
        }
        thread.name = name
        thread.start()
    }

    /// Queues `job` and wakes the thread; false (and `job` dropped) once the thread is stopping, which it may outlive.
    func submit(_ job: @escaping Job) -> Bool {
        let accepted = mailbox.withLock { mailbox in
            if mailbox.stopping { return false }
            mailbox.jobs.append(job)
            return true
        }
        if accepted { wakeUp.signal() }
        return accepted
    }

    /// Jobs waiting for the thread (the one it runs not counted).
    var queuedJobs: Int { mailbox.withLock { $0.jobs.count } }

    /// Asks the thread to exit once its queued jobs are done (each ends at once if its task was cancelled), and waits
    /// until it has.
    func stopAndWait() {
        mailbox.withLock { $0.stopping = true }
        wakeUp.signal()
        exited.wait()
    }

    private func loop(caFile: String?) {
        let easy = CurlEasy(caFile: caFile)
        while true {
            wakeUp.wait()
            let next: Job?? = mailbox.withLock { mailbox in
                if !mailbox.jobs.isEmpty { return mailbox.jobs.removeFirst() }
                return mailbox.stopping ? .some(nil) : nil
            }
            switch next {
            case .some(.some(let job)): job(easy)
            case .some(.none): exited.signal(); return
            case .none: continue
            }
        }
    }
}
