import Synchronization

/// The requests of one `RouterServer` still running when its drain ends, cancelled together.
///
/// A request runs in a task of its own, outside any task tree the server's cancellation reaches, so the end of
/// `--drain-timeout` reaches them through here: every connection registers a way to cancel its request, and
/// `cancelAll` calls each. A cancelled request's wait ends with `CancellationError`, which the error middleware
/// answers 503 `shutting_down`. Connections register, not requests, so a request costs no lock; one that starts
/// after `cancelAll` sees `isCancelled` and starts cancelled.
final class RequestCancellation: Sendable {
    private let cancellers = Mutex<[ObjectIdentifier: @Sendable () -> Void]>([:])
    private let cancelled = Atomic<Bool>(false)

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Registers a connection; `cancel` is called at most once, from any thread.
    func add(_ connection: ObjectIdentifier, cancel: @escaping @Sendable () -> Void) {
        cancellers.withLock { $0[connection] = cancel }
    }

    func remove(_ connection: ObjectIdentifier) {
        _ = cancellers.withLock { $0.removeValue(forKey: connection) }
    }

    /// Cancels the request of every registered connection, and any request that starts later.
    func cancelAll() {
        cancelled.store(true, ordering: .releasing)
        let all = cancellers.withLock { cancellers in
            defer { cancellers.removeAll() }
            return Array(cancellers.values)
        }
        for cancel in all { cancel() }
    }
}
