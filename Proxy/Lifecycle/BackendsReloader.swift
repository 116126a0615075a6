import Logging
import ServiceLifecycle
import UnixSignals

/// Re-reads `--backends-file` on SIGHUP; connections and kept backends' state are untouched.
///
/// A file that cannot be read or parsed leaves the current list in place (logged as an error):
/// a typo during a reload must not take the proxy down. Without a file the signal is still trapped
/// and only logged: SIGHUP's default action ends the process, and `systemctl reload` sends it to
/// every proxy, configured with a file or not.
struct BackendsReloader: Service {
    /// `nil` when the proxy runs without `--backends-file`.
    let path: String?
    /// `--backend` flags, which stay in the list across reloads.
    let fixed: [BackendAddress]
    let pool: BackendPool
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            reload()
        }
    }

    func reload() {
        guard let path else {
            logger.notice("SIGHUP: no --backends-file to re-read; the backends stay as they are")
            return
        }
        do {
            let addresses = fixed + (try BackendAddress.list(fromFile: path))
            guard !addresses.isEmpty else {
                logger.error("backends file \(path) lists no backends; keeping the current list")
                return
            }
            pool.replace(with: addresses)
        } catch {
            logger.error("cannot reload backends file \(path): \(error); keeping the current list")
        }
    }
}
