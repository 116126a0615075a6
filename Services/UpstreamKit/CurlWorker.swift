/// The blocking transport: a lease on one pool thread, valid for one request.
///
/// Every `get` runs libcurl on the leased thread and blocks it until the upstream answers; the calling
/// task merely awaits a continuation that the thread resumes, so no event loop is ever blocked. The
/// thread stays reserved for the request between its calls, as a WSGI worker is.
public struct CurlWorker: UpstreamClient {
    let thread: CurlWorkerThread
    /// Which pool thread this is (0-based), for logs.
    public let index: Int

    /// Runs the call on the leased thread. Cancelling the calling task ends it at once with
    /// ``UpstreamError/cancelled(_:)``: a call still queued for the thread never runs, and one under way in libcurl is
    /// dropped (its connection closed) rather than left to run to its timeout.
    public func get(_ url: String, headers: [(name: String, value: String)], timeout: Duration) async throws(UpstreamError) -> UpstreamResponse {
        let call = CurlCall()
        let index = self.index
        let thread = self.thread
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                guard call.submit(continuation) else { return }
                let accepted = thread.submit { easy in
                    guard let easy else {
                        call.finish(.failure(.connectionFailed("libcurl could not create a handle on worker \(index)")))
                        return
                    }
                    guard call.start(waker: easy.waker) else { return }
                    call.finish(easy.get(url, headers: headers, timeout: timeout) { call.isCancelled })
                }
                if !accepted { call.finish(.failure(.shutdown("worker \(index) has stopped"))) }
            }
        } onCancel: {
            call.cancel()
        }
        return try result.get()
    }
}
