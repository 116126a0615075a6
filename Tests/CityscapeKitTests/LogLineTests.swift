import Foundation
import Logging
import Synchronization
import Testing

@testable import CityscapeKit

/// `StandardOutputLogHandler`'s lines: swift-log's `StreamLogHandler` format byte for byte (tests and tools parse
/// it), the metadata merged as before, and a timestamp made once per second that still moves with the clock.
@Suite("Log lines: StreamLogHandler's format, a timestamp per second")
struct LogLineTests {
    /// Collects what a handler writes.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// A `TextOutputStream` for swift-log's own `StreamLogHandler`, the reference.
    struct Capture: TextOutputStream, Sendable {
        let lines: Lines
        func write(_ string: String) { lines.append(string) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "the disk is full" }
    }

    static let provider = Logger.MetadataProvider { ["trace.id": "t-1", "shared": "from-provider"] }

    /// (handler metadata, provider, line metadata, error): each source alone, all together with overlapping keys,
    /// and nested values.
    static let cases: [(Logger.Metadata, Logger.MetadataProvider?, Logger.Metadata?, (any Error)?)] = [
        ([:], nil, nil, nil),
        (["hb.request.id": "abc"], nil, nil, nil),
        ([:], nil, ["status": "200"], nil),
        ([:], provider, nil, nil),
        ([:], nil, nil, Failure()),
        (
            ["hb.request.id": "abc", "shared": "from-handler", "zeta": "z"], provider, ["status": "503", "shared": "from-line", "alpha": "a"],
            Failure()
        ),
        (["list": ["a", "b c"], "map": ["k": "v"], "number": .stringConvertible(42)], nil, ["empty": [:]], nil),
    ]

    /// The line swift-log's `StreamLogHandler` writes for `event`, with the handler's metadata merged into the
    /// line's as `StandardOutputLogHandler` has always done before handing it over.
    static func reference(label: String, handler: Logger.Metadata, provider: Logger.MetadataProvider?, event: LogEvent) -> String {
        let lines = Lines()
        let stream = StreamLogHandler(label: label, stream: Capture(lines: lines), metadataProvider: provider)
        var event = event
        if !handler.isEmpty {
            event.metadata = event.metadata.map { explicit in handler.merging(explicit) { _, line in line } } ?? handler
        }
        stream.log(event: event)
        return lines.all.joined()
    }

    /// What `StandardOutputLogHandler` writes for `event`.
    static func ours(label: String, handler: Logger.Metadata, provider: Logger.MetadataProvider?, event: LogEvent) -> String {
        let lines = Lines()
        var ours = StandardOutputLogHandler(label: label, write: lines.append)
        ours.metadataProvider = provider
        for (key, value) in handler { ours[metadataKey: key] = value }
        ours.log(event: event)
        return lines.all.joined()
    }

    /// The line without its timestamp (the two handlers may write theirs in different seconds).
    static func afterTimestamp(_ line: String) -> Substring {
        line.drop { $0 != " " }
    }

    @Test("every level and every mix of metadata gives StreamLogHandler's line", arguments: Logger.Level.allCases)
    func sameAsStreamLogHandler(level: Logger.Level) {
        for (index, (handler, provider, explicit, error)) in Self.cases.enumerated() {
            for label in ["cityscape-location", ""] {
                let event = LogEvent(
                    level: level,
                    message: "GET /api/location/97227/US 200 0.1ms",
                    error: error,
                    metadata: explicit,
                    source: "CityscapeKit",
                    file: #fileID,
                    function: #function,
                    line: #line
                )
                let ours = Self.ours(label: label, handler: handler, provider: provider, event: event)
                let reference = Self.reference(label: label, handler: handler, provider: provider, event: event)
                #expect(Self.afterTimestamp(ours) == Self.afterTimestamp(reference), "case \(index), label \(label.debugDescription)")
                #expect(ours.hasSuffix("\n") && ours.filter { $0 == "\n" }.count == 1)
            }
        }
    }

    @Test("a line in full: timestamp, level, label, sorted metadata, source, message")
    func wholeLine() {
        let line = LogLine.format(
            timestamp: "2026-12-06T17:08:24+0000",
            level: .info,
            label: "cityscape-sun",
            metadata: ["status": "200", "hb.request.id": "r-1"],
            source: "CityscapeKit",
            message: "GET /json 200 0.2ms"
        )
        #expect(line == "2026-12-06T17:08:24+0000 info cityscape-sun: hb.request.id=r-1 status=200 [CityscapeKit] GET /json 200 0.2ms\n")
        let bare = LogLine.format(timestamp: "T", level: .error, label: "", metadata: [:], source: "S", message: "m")
        #expect(bare == "T error: [S] m\n")
    }

    @Test(
        "the timestamp of a fixed time is strftime's %Y-%m-%dT%H:%M:%S%z in local time",
        arguments: [0, 951_782_400, 1_780_000_000, 1_796_584_104, 4_102_444_799]
    )
    func timestampFormat(second: Int) {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssZ"
        let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(second)))
        #expect(LogTimestamps.format(second) == expected)
        #expect(LogTimestamps(clock: { second }).now() == expected)
    }

    @Test("a line written after the clock passes a second boundary carries the new second")
    func secondBoundary() throws {
        let now = Atomic<Int>(1_796_584_104)
        let timestamps = LogTimestamps(clock: { now.load(ordering: .relaxed) })
        let lines = Lines()
        let logger = Logger(label: "test") { label in StandardOutputLogHandler(label: label, timestamps: timestamps, write: lines.append) }
        logger.info("first")
        logger.info("same second")
        now.store(1_796_584_105, ordering: .relaxed)
        logger.info("next second")
        let written = lines.all
        try #require(written.count == 3)
        #expect(written[0].hasPrefix(LogTimestamps.format(1_796_584_104) + " info test: "))
        #expect(written[1].hasPrefix(LogTimestamps.format(1_796_584_104) + " "))
        #expect(written[2].hasPrefix(LogTimestamps.format(1_796_584_105) + " "))
        #expect(LogTimestamps.format(1_796_584_104) != LogTimestamps.format(1_796_584_105))
    }

    @Test("each thread keeps its own second: a thread that last wrote long ago gets the current second")
    func threads() async throws {
        let now = Atomic<Int>(1_796_584_104)
        let timestamps = LogTimestamps(clock: { now.load(ordering: .relaxed) })
        #expect(timestamps.now() == LogTimestamps.format(1_796_584_104))
        now.store(1_796_584_200, ordering: .relaxed)
        let other = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: timestamps.now()) }
        }
        #expect(other == LogTimestamps.format(1_796_584_200))
        #expect(timestamps.now() == LogTimestamps.format(1_796_584_200))
    }
}
