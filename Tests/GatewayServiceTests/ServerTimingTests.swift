import Foundation
import Testing

@testable import GatewayService

@Suite("Server-Timing header value")
struct ServerTimingTests {
    /// The value with every duration replaced by `D`, so the test reads the shape, not the clock.
    static func shape(_ timing: ServerTiming) -> String {
        timing.headerValue().replacingOccurrences(of: #"dur=[0-9]+\.[0-9]+"#, with: "dur=D", options: .regularExpression)
    }

    @Test("entries in the order they are recorded, then the cache's summary and the total")
    func order() {
        var timing = ServerTiming()
        #expect(Self.shape(timing) == "total;dur=D")
        timing.record("queue", .milliseconds(3))
        timing.record("location", .microseconds(1500), cached: true)
        timing.record("sun", .milliseconds(2))
        #expect(Self.shape(timing) == "queue;dur=D, location;dur=D;desc=hit, sun;dur=D, cache;desc=partial, total;dur=D")
        #expect(timing.headerValue().hasPrefix("queue;dur=3.0, location;dur=1.5;desc=hit, sun;dur=2.0, "))
    }

    @Test("a request answered wholly from the cache says so, whatever it queued for; more entries than usual are all kept")
    func cacheHit() {
        var hit = ServerTiming()
        hit.record("queue", .milliseconds(1))
        hit.record("location", .zero, cached: true)
        hit.record("sun", .zero, cached: true)
        #expect(Self.shape(hit) == "queue;dur=D, location;dur=D;desc=hit, sun;dur=D;desc=hit, cache;desc=hit, total;dur=D")
        var many = ServerTiming()
        for name in ["a", "b", "c", "d", "e"] { many.record(name, .milliseconds(1)) }
        #expect(Self.shape(many) == "a;dur=D, b;dur=D, c;dur=D, d;dur=D, e;dur=D, total;dur=D")
    }
}
