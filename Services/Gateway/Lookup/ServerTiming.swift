import HTTPTypes

/// Where one request's time went, sent back as the standard `Server-Timing` header.
///
/// `curl -i` then shows `queue` (blocking mode: waiting for a worker), `location`, `sun` and `total`
/// in milliseconds, plus `desc=hit` on an upstream answered from the cache. Under load in blocking
/// mode the queue entry is the lesson made visible.
struct ServerTiming: Sendable {
    private var entries: [(name: String, duration: Duration, cached: Bool)] = []
    let start = ContinuousClock.now

    /// Adds an entry; `cached` marks an answer that came from the cache (or a shared in-flight call).
    mutating func record(_ name: String, _ duration: Duration, cached: Bool = false) {
        // Room for every entry a request makes (queue, location, sun) at the first one, instead of growing twice.
        if entries.isEmpty { entries.reserveCapacity(3) }
        entries.append((name, duration, cached))
    }

    /// The header value, with `total` measured now; written into one string rather than joined from parts.
    func headerValue() -> String {
        var value = ""
        value.reserveCapacity(96)
        for entry in entries {
            value += entry.name
            value += ";dur="
            value += Self.milliseconds(entry.duration)
            if entry.cached { value += ";desc=hit" }
            value += ", "
        }
        if entries.contains(where: \.cached) {
            value += entries.allSatisfy { $0.cached || $0.name == "queue" } ? "cache;desc=hit, " : "cache;desc=partial, "
        }
        value += "total;dur="
        value += Self.milliseconds(ContinuousClock.now - start)
        return value
    }

    static func milliseconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(Double((value * 10).rounded()) / 10)
    }
}

// Stored rather than computed: making a name checks its characters and lowercases it, and every answer uses these.
extension HTTPField.Name {
    /// `Server-Timing` (W3C Server Timing).
    static let serverTiming = Self("Server-Timing")!
    /// `Retry-After` (RFC 9110), sent with 503.
    static let retryAfter = Self("Retry-After")!
}
