import Logging

// `stdout` is a mutable C global to Swift; `@preconcurrency` reads it as it is: set once before `main` and never
// assigned in the process, so reading it from any thread is safe (the stream itself is used under its own lock).
#if canImport(Glibc)
    @preconcurrency import Glibc
#elseif canImport(Darwin)
    @preconcurrency import Darwin
#endif

/// Writes swift-log's `StreamLogHandler` lines to standard output (`LogLine`), one write and a flush per line,
/// with the logger's metadata kept as a plain dictionary until a line is written.
///
/// `StreamLogHandler` renders its metadata to text on every change, while every request changes it twice
/// (Hummingbird's `hb.request.id`, then ours) and most requests write no line at the usual levels; and it asks the
/// C library for the local time of every line, which re-reads the time zone each time. Here a change only stores
/// the value, and the timestamp's text is made once per second (`LogTimestamps`).
struct StandardOutputLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadataProvider: Logger.MetadataProvider?
    var metadata: Logger.Metadata = [:]
    private let timestamps: LogTimestamps
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - timestamps: the clock of the lines (a test's, or the system's).
    ///   - write: where each line goes, whole (a test's buffer, or standard output).
    init(
        label: String,
        timestamps: LogTimestamps = .system,
        write: @escaping @Sendable (String) -> Void = StandardOutputLogHandler.writeToStandardOutput
    ) {
        self.label = label
        self.metadataProvider = LoggingSystem.metadataProvider
        self.timestamps = timestamps
        self.write = write
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let metadata = LogLine.metadata(handler: metadata, provider: metadataProvider, event: event)
        write(
            LogLine.format(
                timestamp: timestamps.now(),
                level: event.level,
                label: label,
                metadata: metadata,
                source: event.source,
                message: event.message
            )
        )
    }

    /// Writes `line` to standard output in one `fwrite` and flushes it, holding the stream's lock throughout, so
    /// lines from different threads never interleave and a reader of a pipe sees each line as it is logged.
    static func writeToStandardOutput(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            let output = stdout
            flockfile(output)
            fwrite(bytes.baseAddress, 1, bytes.count, output)
            fflush(output)
            funlockfile(output)
        }
    }
}
