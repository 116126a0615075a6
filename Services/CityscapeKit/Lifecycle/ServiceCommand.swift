import ArgumentParser
public import Configuration
public import Logging

extension ConfigurationError {
    /// Runs configuration parsing and reports failures the way ArgumentParser reports bad flags
    /// (message, usage, exit code 64), so a bad environment variable looks like a bad flag.
    public static func asValidationError<T>(_ body: () throws(ConfigurationError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw ValidationError(error.message)
        }
    }
}

extension ServiceIdentity {
    /// The start-up every `main` shares: read and validate the configuration from the parsed flags and the
    /// environment, bootstrap logging at its level, and return it with the service's root logger.
    public static func start<Configuration>(
        commandLine values: [AbsoluteConfigKey: ConfigValue],
        logLevel: (Configuration) -> Logger.Level,
        configure: (SettingsReader) throws(ConfigurationError) -> Configuration
    ) throws -> (Configuration, Logger) {
        let configuration = try ConfigurationError.asValidationError { () throws(ConfigurationError) in
            try configure(SettingsReader(commandLine: values))
        }
        let level = logLevel(configuration)
        LoggingSetup.bootstrap(level: level)
        return (configuration, LoggingSetup.logger(for: name, level: level))
    }
}
