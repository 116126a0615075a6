public import NIOCore

/// The proxy's event loops, one per core by default: a listener spreads its connections over them and each
/// connection stays on its loop. Made and shut down by its owner (the proxy application, or a test), so
/// many proxies can start and stop in one process without leaving threads behind.
public final class EpollLoopGroup: Sendable {
    public let loops: [EpollLoop]

    /// Creates and starts `count` loops (at least one).
    public init(count: Int = System.coreCount, name: String = "cityscape-proxy") throws(SocketError) {
        var loops: [EpollLoop] = []
        for index in 0..<max(1, count) { loops.append(try EpollLoop(name: "\(name)-\(index)")) }
        self.loops = loops
        for loop in loops { loop.start() }
    }

    /// Stops every loop (see `EpollLoop.shutdown`); returns once their threads have ended.
    public func shutdown() async {
        for loop in loops { await loop.shutdown() }
    }
}
