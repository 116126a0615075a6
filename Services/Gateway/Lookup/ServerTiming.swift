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
        entries.append((name, duration, cached))
    }

    /// The header value, with `total` measured now.
    func headerValue() -> String {
        var parts = entries.map { entry in
            "\(entry.name);dur=\(Self.milliseconds(entry.duration))" + (entry.cached ? ";desc=hit" : "")
        }
        if entries.contains(where: \.cached) {
            parts.append(entries.allSatisfy { $0.cached || $0.name == "queue" } ? "cache;desc=hit" : "cache;desc=partial")
        }
        parts.append("total;dur=\(Self.milliseconds(ContinuousClock.now - start))")
        return parts.joined(separator: ", ")
    }

    static func milliseconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(Double((value * 10).rounded()) / 10)
    }
}

extension HTTPField.Name {
    /// `Server-Timing` (W3C Server Timing).
    static var serverTiming: Self { .init("Server-Timing")! }
    /// `Retry-After` (RFC 9110), sent with 503.
    static var retryAfter: Self { .init("Retry-After")! }
}
