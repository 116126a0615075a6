import ArgumentParser

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
