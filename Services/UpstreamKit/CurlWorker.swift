/// The blocking transport: a lease on one pool thread, valid for one request.
///
/// Every `get` runs libcurl on the leased thread and blocks it until the upstream answers; the calling
/// task merely awaits a continuation that the thread resumes, so no event loop is ever blocked. The
/// thread stays reserved for the request between its calls, as a WSGI worker is.
public struct CurlWorker: UpstreamClient {
    let thread: CurlWorkerThread
    /// Which pool thread this is (0-based), for logs.
    public let index: Int

    public func get(_ url: String, headers: [(name: String, value: String)], timeout: Duration) async throws(UpstreamError) -> UpstreamResponse {
        let result: Result<UpstreamResponse, UpstreamError> = await withCheckedContinuation { continuation in
            thread.submit { easy in
                guard let easy else {
                    continuation.resume(returning: .failure(.connectionFailed("libcurl could not create a handle on worker \(index)")))
                    return
                }
                continuation.resume(returning: easy.get(url, headers: headers, timeout: timeout))
            }
        }
        return try result.get()
    }
}
