import NIOCore
import NIOHTTP1

/// Whether a connection's next request may go to the application, given the refusals it was sent.
///
/// A refusal (503 or 429 with `Retry-After`) asks the client to wait. A client that asks again at once on the
/// same connection, as a closed-loop load generator or a naive retry loop does, would otherwise turn that
/// connection into a stream of refusals which takes the CPU the admitted requests need. So its next request
/// is read but held until the `Retry-After` has passed (at most `longestHold`), then passed on as usual: a
/// well-behaved client never waits, and each misbehaving connection costs about one refusal per `Retry-After`.
///
/// A pure value driven by the handler (`RefusalPacer`): each event returns what to do.
struct RefusalPacing {
    enum State {
        /// Requests pass.
        case open
        /// The last response was a refusal: a request that starts before `until` is held.
        case refused(until: NIODeadline)
        /// A request is held until `until`; its parts (and any pipelined after it) wait in `parts`, and reading
        /// from the socket waits too (`readWanted`: the pipeline asked for a read meanwhile).
        case holding(until: NIODeadline, parts: [HTTPServerRequestPart], readWanted: Bool)
    }

    enum PartAction {
        case forward
        /// Keep the part; the first held part also asks for a timer at the deadline.
        case hold(releaseAt: NIODeadline?)
    }

    enum ReleaseAction {
        case nothing
        /// Pass these parts on in order, then read from the socket if `read` (a read was asked for meanwhile).
        case release(parts: [HTTPServerRequestPart], read: Bool)
    }

    let longestHold: TimeAmount
    private(set) var state = State.open

    init(longestHold: TimeAmount) {
        self.longestHold = longestHold
    }

    /// A response head is on its way out. `now` is read only for a refusal.
    mutating func responseHead(_ head: HTTPResponseHead, now: @autoclosure () -> NIODeadline) {
        guard case .holding = state else {
            state = Self.retryAfter(of: head).map { .refused(until: now() + min($0, longestHold)) } ?? .open
            return
        }
        // A held request has had no response yet; a head now answers an earlier pipelined one and changes nothing.
    }

    /// A request part arrived from the client. `now` is read only after a refusal.
    mutating func requestPart(_ part: HTTPServerRequestPart, now: @autoclosure () -> NIODeadline) -> PartAction {
        switch state {
        case .open:
            return .forward
        case .refused(let until):
            guard now() < until else {
                state = .open
                return .forward
            }
            // Only a new request is held; the rest of one that began before the refusal went out passes.
            guard case .head = part else { return .forward }
            state = .holding(until: until, parts: [part], readWanted: false)
            return .hold(releaseAt: until)
        case .holding(let until, var parts, let readWanted):
            state = .open  // leaves `parts` uniquely referenced while it grows
            parts.append(part)
            state = .holding(until: until, parts: parts, readWanted: readWanted)
            return .hold(releaseAt: nil)
        }
    }

    /// The pipeline asks for a read. Returns whether to pass the read on now.
    mutating func readRequested() -> Bool {
        guard case .holding(let until, let parts, _) = state else { return true }
        state = .holding(until: until, parts: parts, readWanted: true)
        return false
    }

    /// The hold's timer fired.
    mutating func timerFired() -> ReleaseAction {
        guard case .holding(_, let parts, let readWanted) = state else { return .nothing }
        state = .open
        return .release(parts: parts, read: readWanted)
    }

    /// The delay a refusal asks for: its `Retry-After` in seconds, for a 503 or 429 only. An HTTP date or
    /// anything unreadable counts as no delay.
    static func retryAfter(of head: HTTPResponseHead) -> TimeAmount? {
        guard head.status == .serviceUnavailable || head.status == .tooManyRequests else { return nil }
        guard let value = head.headers.first(name: "retry-after"), let seconds = Int64(value), seconds > 0 else { return nil }
        return .seconds(seconds)
    }
}
