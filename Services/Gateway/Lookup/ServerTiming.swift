import CityscapeKit
import HTTPTypes

/// Where one request's time went, sent back as the standard `Server-Timing` header.
///
/// `curl -i` then shows `queue` (blocking mode: waiting for a worker), `location`, `sun` and `total`
/// in milliseconds, plus `desc=hit` on an upstream answered from the cache. Under load in blocking
/// mode the queue entry is the lesson made visible.
struct ServerTiming: Sendable {
    private typealias Entry = (name: String, duration: Duration, cached: Bool)
    /// Held inline, so a request's timing allocates nothing but its header value; a request records at most
    /// queue, location and sun, and anything beyond goes to `more`.
    private var inline = InlineArray<3, Entry?>(repeating: nil)
    private var inlineCount = 0
    private var more: [Entry] = []
    let start = ContinuousClock.now

    /// Adds an entry; `cached` marks an answer that came from the cache (or a shared in-flight call).
    mutating func record(_ name: String, _ duration: Duration, cached: Bool = false) {
        if inlineCount < inline.count {
            inline[inlineCount] = (name, duration, cached)
            inlineCount += 1
        } else {
            more.append((name, duration, cached))
        }
    }

    /// The header value, with `total` measured now; written into one string rather than joined from parts.
    func headerValue() -> String {
        var value = ""
        value.reserveCapacity(96)
        var anyCached = false
        var allCached = true
        forEachEntry { entry in
            value += entry.name
            value += ";dur="
            value += entry.duration.millisecondsText
            if entry.cached { value += ";desc=hit" }
            value += ", "
            anyCached = anyCached || entry.cached
            allCached = allCached && (entry.cached || entry.name == "queue")
        }
        if anyCached {
            value += allCached ? "cache;desc=hit, " : "cache;desc=partial, "
        }
        value += "total;dur="
        value += (ContinuousClock.now - start).millisecondsText
        return value
    }

    private func forEachEntry(_ body: (Entry) -> Void) {
        for index in 0..<inlineCount {
            if let entry = inline[index] { body(entry) }
        }
        for entry in more { body(entry) }
    }
}

// Stored rather than computed: making a name checks its characters and lowercases it, and every answer uses these.
extension HTTPField.Name {
    /// `Server-Timing` (W3C Server Timing).
    static let serverTiming = Self("Server-Timing")!
    /// `Retry-After` (RFC 9110), sent with 503.
    static let retryAfter = Self("Retry-After")!
}
