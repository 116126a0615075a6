import Foundation
import NIOPosix

/// The time at the start of every log line, as swift-log's `StreamLogHandler` writes it: `strftime`'s
/// `%Y-%m-%dT%H:%M:%S%z` in local time, e.g. `2026-12-06T17:08:24+0000`.
///
/// `StreamLogHandler` makes it for every line with `localtime`, which in glibc re-reads the time zone (`tzset`,
/// a `stat` of `/etc/localtime`) on each call. Here each thread makes the text once per second and reuses it for
/// the lines it writes in that second. A new second's text is made after a `tzset`, so a change of time zone
/// still shows within a second, as it does with `StreamLogHandler`.
final class LogTimestamps: Sendable {
    /// The process's timestamps, read from the system clock.
    static let system = LogTimestamps()

    /// Seconds since the epoch: `time(nil)`, or a test's clock.
    private let clock: @Sendable () -> Int
    /// Each thread's text and its second. Per thread, so threads neither share a cache line nor wait for each
    /// other: a thread that writes a line reads its own slot (`pthread_getspecific`) and compares one integer.
    private let texts = ThreadSpecificVariable<SecondText>()

    init(clock: @escaping @Sendable () -> Int = { time(nil) }) {
        self.clock = clock
    }

    /// The timestamp of a line written now.
    func now() -> String {
        let second = clock()
        guard let text = texts.currentValue else {
            let text = SecondText(second: second, text: Self.format(second))
            texts.currentValue = text
            return text.text
        }
        if text.second != second {
            text.second = second
            text.text = Self.format(second)
        }
        return text.text
    }

    /// `second` (since the epoch) in local time, as `StreamLogHandler` formats it.
    static func format(_ second: Int) -> String {
        tzset()
        var time = second
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One thread's timestamp text and the second it is for.
///
/// `@unchecked Sendable` because `ThreadSpecificVariable` is `Sendable` only for `Sendable` values, while this one is
/// mutable. It is safe because an instance never leaves its thread: `LogTimestamps.now()` creates it on the calling
/// thread and stores it only in that thread's slot of `texts`, which only that thread can read; the slot's
/// destructor, which releases it, runs on that thread too, as it exits.
private final class SecondText: @unchecked Sendable {
    var second: Int
    var text: String

    init(second: Int, text: String) {
        self.second = second
        self.text = text
    }
}
