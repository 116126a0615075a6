import Logging

/// swift-log's `StreamLogHandler` on standard output, writing the same lines, with the logger's metadata kept
/// as a plain dictionary until a line is written.
///
/// `StreamLogHandler` renders its metadata to text on every change, while every request changes it twice
/// (Hummingbird's `hb.request.id`, then ours) and most requests write no line at the usual levels. Here a
/// change only stores the value; the line, when there is one, gets this metadata merged under its own
/// (the line's values win, as in `StreamLogHandler`), and `StreamLogHandler` formats and writes it.
struct StandardOutputLogHandler: LogHandler {
    private var stream: StreamLogHandler
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        stream = StreamLogHandler.standardOutput(label: label)
    }

    var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            event.metadata = event.metadata.map { explicit in metadata.merging(explicit) { _, line in line } } ?? metadata
        }
        stream.log(event: event)
    }
}
