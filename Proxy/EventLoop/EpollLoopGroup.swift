import NIOCore

/// The proxy's event loops, one per core, started once for the life of the process (as NIO's singleton
/// group is): a listener spreads its connections over them and each connection stays on its loop.
final class EpollLoopGroup: Sendable {
    static let shared = EpollLoopGroup(count: System.coreCount)

    let loops: [EpollLoop]

    private init(count: Int) {
        loops = (0..<max(1, count)).map { EpollLoop(name: "cityscape-proxy-\($0)") }
        for loop in loops { loop.start() }
    }
}
