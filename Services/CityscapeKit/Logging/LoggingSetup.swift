public import Logging

/// Process-wide logging set-up, called once from each `main` (never from tests: they pass loggers in).
public enum LoggingSetup {
    /// Sends every logger to standard output, one flushed line per event, at `level` (`StreamLogHandler`'s
    /// lines, through `StandardOutputLogHandler`).
    ///
    /// Standard output because that is what container runtimes and systemd's journal collect, and the
    /// handler flushes each line so scripts can wait for `listening on http://...` through a pipe.
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StandardOutputLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// The service's root logger.
    public static func logger(for service: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: service)
        logger.logLevel = level
        return logger
    }
}
