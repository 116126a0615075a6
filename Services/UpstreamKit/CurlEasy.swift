import CCurl
import CityscapeKit

/// One libcurl easy handle, reused for every call made on its worker thread, and the multi handle that runs it.
///
/// Reusing the handles keeps the connection cache (the multi handle's), so consecutive calls to the same upstream
/// ride one keep-alive connection and a benchmark measures blocking, not TCP or TLS handshakes. The transfer runs
/// through the multi interface rather than `curl_easy_perform` (which runs the same loop inside libcurl) so that
/// another thread can wake it (``CurlWaker``) and a cancelled call ends at once instead of at its timeout. Not
/// `Sendable`: it is created, used and destroyed on a single worker thread.
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private let multi: UnsafeMutableRawPointer
    private let sink = BodySink()

    /// Wakes this handle's thread out of its wait for the upstream.
    var waker: CurlWaker { CurlWaker(multi: multi) }

    /// `curl_global_init` is not thread-safe and must run once before any handle exists; a lazily
    /// initialised global is guaranteed to run exactly once.
    private static let globalInit: CURLcode = ccurl_global_init_default()

    /// Returns nil when libcurl cannot allocate a handle.
    init?(caFile: String?) {
        guard Self.globalInit == CURLE_OK, let handle = curl_easy_init() else { return nil }
        guard let multi = curl_multi_init() else {
            curl_easy_cleanup(handle)
            return nil
        }
        self.handle = handle
        self.multi = multi
        // No SIGALRM for DNS timeouts: signals and multi-threaded processes do not mix.
        ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        ccurl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        if let caFile {
            ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile)
            // Trust exactly the given authorities, like the async transport does with its `trustRoots`.
            ccurl_setopt_string(handle, CURLOPT_CAPATH, nil)
        }
        ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
        ccurl_setopt_write_function(handle) { data, size, count, userdata in
            guard let data, let userdata else { return 0 }
            let sink = Unmanaged<BodySink>.fromOpaque(userdata).takeUnretainedValue()
            let length = size * count
            // Returning less than `length` makes libcurl abort the transfer with CURLE_WRITE_ERROR.
            guard sink.bytes.count + length <= UpstreamLimits.maximumBodyBytes else {
                sink.overflowed = true
                return 0
            }
            data.withMemoryRebound(to: UInt8.self, capacity: length) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
            return length
        }
    }

    deinit {
        // The easy handle is attached to the multi handle only during a call, so the two part cleanly here.
        curl_multi_cleanup(multi)
        curl_easy_cleanup(handle)
    }

    /// Performs `GET url`, blocking the calling thread until the response, the deadline, or `isCancelled` (checked
    /// whenever the thread wakes, which ``waker`` makes it do at once).
    func get(
        _ url: String,
        headers: [(name: String, value: String)],
        timeout: Duration,
        isCancelled: () -> Bool = { false }
    ) -> Result<UpstreamResponse, UpstreamError> {
        let milliseconds = max(1, Int(timeout.nanoseconds / 1_000_000))
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for header in headers {
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        // An empty `Expect:`-style list still replaces the previous call's headers.
        defer { curl_slist_free_all(list) }
        ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        ccurl_setopt_string(handle, CURLOPT_URL, url)
        ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds)
        ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds)
        sink.bytes.removeAll(keepingCapacity: true)
        sink.overflowed = false

        let code: CURLcode
        switch perform(isCancelled: isCancelled) {
        case .finished(let result): code = result
        case .cancelled: return CurlCallState.cancelledResult
        case .multiFailed(let failure):
            return .failure(.connectionFailed("curl multi error \(failure.rawValue): " + String(cString: curl_multi_strerror(failure))))
        }
        if code != CURLE_OK {
            return .failure(Self.classify(code, overflowed: sink.overflowed))
        }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(UpstreamResponse(status: status, body: sink.bytes))
    }

    private enum Outcome {
        case finished(CURLcode)
        case cancelled
        case multiFailed(CURLMcode)
    }

    /// Runs the transfer to its end, as `curl_easy_perform` would, unless `isCancelled` says to drop it.
    private func perform(isCancelled: () -> Bool) -> Outcome {
        let added = curl_multi_add_handle(multi, handle)
        guard added == CURLM_OK else { return .multiFailed(added) }
        // Removing the handle mid-transfer abandons it and closes its connection; after a complete one the
        // connection stays in the multi handle's cache for the next call.
        defer { curl_multi_remove_handle(multi, handle) }
        var running: Int32 = 1
        while true {
            if isCancelled() { return .cancelled }
            let performed = curl_multi_perform(multi, &running)
            guard performed == CURLM_OK else { return .multiFailed(performed) }
            if running == 0 { break }
            // Returns on socket activity, at libcurl's next deadline (the call's timeouts among them), at once after
            // `curl_multi_wakeup`, and after a second at the latest.
            let polled = curl_multi_poll(multi, nil, 0, 1000, nil)
            guard polled == CURLM_OK else { return .multiFailed(polled) }
        }
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            if message.pointee.msg == CURLMSG_DONE { return .finished(message.pointee.data.result) }
        }
        return .finished(CURLE_GOT_NOTHING)
    }

    /// Maps libcurl result codes onto the causes the gateway distinguishes.
    static func classify(_ code: CURLcode, overflowed: Bool) -> UpstreamError {
        let detail = "curl error \(code.rawValue): " + String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout(detail)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .connectionFailed(detail)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return .tls(detail)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .invalidURL(detail)
        case CURLE_WRITE_ERROR where overflowed:
            return .bodyTooLarge(detail)
        default:
            // CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE: the connection broke.
            return .connectionReset(detail)
        }
    }
}

/// Where the write callback collects the body; reached from C through an unretained pointer.
private final class BodySink {
    var bytes: [UInt8] = []
    var overflowed = false
}
