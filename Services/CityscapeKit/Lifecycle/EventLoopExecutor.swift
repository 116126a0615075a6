import NIOCore
import NIOPosix

/// Runs Swift concurrency's global executor on NIO's event loops, the threads Hummingbird serves on
/// and AsyncHTTPClient talks on.
///
/// With Swift's own cooperative pool, every request crosses between two thread pools several times:
/// a read arrives on an event loop and wakes a task on the pool, whose writes go back to the loop,
/// and so on for each upstream call. Each crossing is a queue hand-off and often a thread wake-up.
/// With the event loops as the global executor, a task resumed by an event loop runs on that same
/// loop (NIO picks the current loop when the caller is on one), so a request is served without
/// leaving its thread. `make profile-gateway` shows the shares before and after.
///
/// Installed once per process by the service binaries only (tests keep Swift's default executor). Work
/// that blocks must therefore never run on the global executor: the blocking gateway keeps its own
/// libcurl threads for exactly that.
public enum EventLoopExecutor {
    /// Installs NIO's singleton event loop group as the global executor; false when the runtime does not
    /// allow it (the process then keeps the default executor and works the same, only slower).
    @discardableResult
    public static func install() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
