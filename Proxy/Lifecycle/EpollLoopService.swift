import EpollKit
import ServiceLifecycle

/// Owns the proxy's epoll loops for the life of the service group and stops their threads last.
///
/// Listed first in the service group, so on shutdown it stops only after the proxy listener has drained
/// and handed its per-loop state back (service groups shut down in reverse order).
struct EpollLoopService: Service {
    let group: EpollLoopGroup

    func run() async throws {
        try? await gracefulShutdown()
        await group.shutdown()
    }
}
