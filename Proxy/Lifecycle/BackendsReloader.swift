import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads `--backends-file` on SIGHUP; connections and kept backends' state are untouched.
///
/// A file that cannot be read or parsed (a bad weight included) leaves the current list in place,
/// logged as an error with the line at fault: a typo during a reload must not take the proxy down.
/// Without a file the signal is still trapped and only logged: SIGHUP's default action ends the
/// process, and `systemctl reload` sends it to every proxy, configured with a file or not.
struct BackendsReloader: Service {
    /// `nil` when the proxy runs without `--backends-file`.
    let path: String?
    /// `--backend` flags, which stay in the list across reloads.
    let fixed: [WeightedBackend]
    let pool: BackendPool
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            reload()
        }
    }

    /// One reload, as on SIGHUP; also what tests call.
    func reload() {
        guard let path else {
            logger.notice("SIGHUP: no --backends-file to re-read; the backends stay as they are")
            return
        }
        do {
            let backends = fixed + (try WeightedBackend.list(fromFile: path))
            guard !backends.isEmpty else {
                logger.error("backends file \(path) lists no backends; keeping the current list")
                return
            }
            pool.replace(with: backends)
        } catch {
            logger.error("cannot reload backends file \(path): \(error); keeping the current list")
        }
    }
}
