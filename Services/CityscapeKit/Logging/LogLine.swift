import Logging

/// One log line in swift-log's `StreamLogHandler` format, which tests and tools parse:
/// `TIMESTAMP LEVEL LABEL: KEY=VALUE ... [SOURCE] MESSAGE` and a newline, the metadata sorted by key (left out, with
/// its space, when there is none; the label's space too when the label is empty).
enum LogLine {
    static func format(
        timestamp: String,
        level: Logger.Level,
        label: String,
        metadata: Logger.Metadata,
        source: String,
        message: Logger.Message
    ) -> String {
        let message = message.description
        var line = timestamp
        line.reserveCapacity(timestamp.utf8.count + label.utf8.count + source.utf8.count + message.utf8.count + 16 + 48 * metadata.count)
        line += " "
        line += level.rawValue
        if !label.isEmpty { line += " " }
        line += label
        line += ":"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += key
            line += "="
            line += value.description
        }
        line += " ["
        line += source
        line += "] "
        line += message
        line += "\n"
        return line
    }

    /// The metadata a line shows: the provider's, overridden by the handler's, overridden by the line's own, and
    /// the error's `error.message` and `error.type` over all (as `StandardOutputLogHandler` always merged them over
    /// `StreamLogHandler`'s rules: the handler's metadata came in with the line's).
    static func metadata(handler: Logger.Metadata, provider: Logger.MetadataProvider?, event: LogEvent) -> Logger.Metadata {
        var metadata = provider?.get() ?? [:]
        if metadata.isEmpty {
            metadata = handler
        } else if !handler.isEmpty {
            metadata.merge(handler) { _, handler in handler }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            if metadata.isEmpty {
                metadata = explicit
            } else {
                metadata.merge(explicit) { _, explicit in explicit }
            }
        }
        if let error = event.error {
            metadata["error.message"] = "\(error)"
            metadata["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        return metadata
    }
}
