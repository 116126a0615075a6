/// What happened to one request of a run.
enum Outcome: Sendable, Equatable {
    /// Scheduled, not yet answered.
    case pending
    /// An HTTP answer arrived in time.
    case status(Int)
    /// No whole answer within `--timeout` of the intended start.
    case timeout
    /// The connection could not be opened.
    case connectError
    /// The connection closed or failed before the whole answer arrived.
    case readError
    /// Every allowed connection was busy when the request was due: recorded, never delayed.
    case overflow
}

/// The `Server-Timing` parts the gateway sends, in milliseconds (nil when a part is absent).
struct ServerTimingParts: Sendable, Equatable {
    var queue: Double?
    var location: Double?
    var sun: Double?
    var total: Double?

    /// Reads `queue;dur=0.1, location;dur=500.2, sun;dur=500.3, total;dur=1001.0`; other parts are ignored.
    init(header: String?) {
        guard let header else { return }
        for part in header.split(separator: ",") {
            let fields = part.split(separator: ";").map { $0.trimmingWhitespace() }
            guard let name = fields.first else { continue }
            let duration = fields.dropFirst().first { $0.hasPrefix("dur=") }.flatMap { Double($0.dropFirst(4)) }
            switch name {
            case "queue": queue = duration
            case "location": location = duration
            case "sun": sun = duration
            case "total": total = duration
            default: continue
            }
        }
    }

    init() {}
}

/// One request: when it should have started, when it did, when it ended and how.
///
/// Times are nanoseconds since the start of the run, so records of one run line up on one axis.
struct RequestRecord: Sendable {
    var intended: Int64
    var started: Int64?
    var ended: Int64?
    var outcome: Outcome = .pending
    var timing = ServerTimingParts()

    init(intended: Int64) {
        self.intended = intended
    }

    /// Latency from the intended start, so a late send counts against the server, not for it.
    var latency: Int64? {
        ended.map { $0 - intended }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
