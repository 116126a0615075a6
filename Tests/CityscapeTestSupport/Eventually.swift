/// Polls `condition` until it holds; throws (failing the test) when it still does not after `timeout`.
///
/// Tests wait for a state they can observe (a metric, a log line, a queue depth) instead of sleeping
/// for a guessed time, which a loaded CI machine eventually outlasts.
public func eventually(
    timeout: Duration = .seconds(10),
    every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    throw ServiceProcessError("condition not met within \(timeout)")
}
