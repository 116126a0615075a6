import NIOCore

/// Backpressure for one channel: while closed, the channel's read requests are held (so NIO stops reading
/// from the socket); opening it again passes on the one that was held.
///
/// Used by both sides of an exchange: the client side closes its gate while the upstream cannot take more
/// of the request body, the upstream side while the client cannot take more of the response.
struct ReadGate {
    private(set) var isClosed = false
    private var heldRead = false

    mutating func close() {
        isClosed = true
    }

    /// Call from the handler's `read(context:)`.
    mutating func read(_ context: ChannelHandlerContext) {
        if isClosed {
            heldRead = true
        } else {
            context.read()
        }
    }

    mutating func open(_ context: ChannelHandlerContext?) {
        guard isClosed else { return }
        isClosed = false
        if heldRead, let context {
            heldRead = false
            context.read()
        }
    }
}
