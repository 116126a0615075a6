import Foundation
import NIOCore
import NIOPosix

/// Runs Swift concurrency's global executor on NIO's event loops, the threads `RouterServer` serves on
/// and AsyncHTTPClient talks on.
///
/// With Swift's own cooperative pool, every request crosses between two thread pools several times:
/// a read arrives on an event loop and wakes a task on the pool, whose writes go back to the loop,
/// and so on for each upstream call. Each crossing is a queue hand-off and often a thread wake-up.
/// With the event loops as the global executor, a task resumed by an event loop runs on that same
/// loop (the current loop is picked when the caller is on one), so a request is served without
/// leaving its thread. `make profile-gateway` shows the shares before and after.
///
/// This is NIO's `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()` with one
/// difference, in how a job runs. NIO runs it as isolated to the loop's serial executor, so the runtime takes
/// the entry into every nonisolated async function (each middleware, the router) for a
/// change of isolation and enqueues the task again: one more trip through the loop's queue per call, dozens
/// per request. Here a job runs as what it is, nonisolated, on the task executor the runtime assigns to tasks
/// without a preference (`globalConcurrentExecutor`), so those calls continue in place and a task leaves its
/// loop only when it really waits (a read, a write, a timer). Counting the runtime's job runs per request
/// (`perf probe` on `swift_job_run` and `swift_job_run_on_task_executor`) shows the difference.
///
/// Installed once per process by the service binaries only (tests keep Swift's default executor). Work
/// that blocks must therefore never run on the global executor: the blocking gateway keeps its own
/// libcurl threads for exactly that.
public enum EventLoopExecutor {
    /// The runtime's `swift_task_enqueueGlobal_hook`: called with every job bound for the global executor and
    /// the runtime's own enqueue function.
    typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Installs NIO's singleton event loop group as the global executor; false when the runtime does not
    /// allow it or another hook is installed already (the process then keeps that executor and works the
    /// same, only slower).
    @discardableResult
    public static func install() -> Bool {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook") else { return false }
        let hook = symbol.assumingMemoryBound(to: EnqueueGlobalHook?.self)
        // The runtime reads the hook with a plain load of an aligned pointer; it is written once, at start-up,
        // before the server accepts a connection, and never again.
        guard hook.pointee == nil else { return false }
        hook.pointee = { job, _ in enqueueOnEventLoop(job) }
        return true
    }
}

/// Runs `job` on the current event loop (any loop of the group when called from elsewhere), nonisolated.
private func enqueueOnEventLoop(_ job: UnownedJob) {
    MultiThreadedEventLoopGroup.singleton.any().execute { job.runSynchronously(on: nonisolatedTaskExecutor) }
}

/// Where the runtime expects the nonisolated code of a task without an executor preference to run.
private let nonisolatedTaskExecutor = globalConcurrentExecutor.asUnownedTaskExecutor()
