import NIOCore

/// One client connection and the request it carries; touched only on the generator's event loop.
final class Connection {
    enum State {
        /// TCP connect under way; `request` is sent once it completes.
        case connecting
        /// Open, keep-alive, no request on it.
        case idle
        /// A request written, its answer not complete yet.
        case busy
        /// Closed or failed; never used again.
        case closed
    }

    var state = State.connecting
    var channel: (any Channel)?
    /// The index of the request this connection carries.
    var request: Int?
    var timeout: Scheduled<Void>?
    /// Opened before the schedule starts, to wait idle for the first requests.
    var isWarmUp = false
    /// Whether this connection was already taken off the count of open connections.
    var released = false
}
