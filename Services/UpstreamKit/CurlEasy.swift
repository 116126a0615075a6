import CCurl
import CityscapeKit

/// One libcurl easy handle, reused for every call made on its worker thread.
///
/// Reusing the handle keeps its connection cache, so consecutive calls to the same upstream ride one
/// keep-alive connection and a benchmark measures blocking, not TCP or TLS handshakes. Not `Sendable`:
/// it is created, used and destroyed on a single worker thread.
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private let sink = BodySink()

    /// `curl_global_init` is not thread-safe and must run once before any handle exists; a lazily
    /// initialised global is guaranteed to run exactly once.
    private static let globalInit: CURLcode = ccurl_global_init_default()

    /// Returns nil when libcurl cannot allocate a handle.
    init?(caFile: String?) {
        guard Self.globalInit == CURLE_OK, let handle = curl_easy_init() else { return nil }
        self.handle = handle
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
        curl_easy_cleanup(handle)
    }

    /// Performs `GET url`, blocking the calling thread until the response or the deadline.
    func get(_ url: String, headers: [(name: String, value: String)], timeout: Duration) -> Result<UpstreamResponse, UpstreamError> {
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

        let code = curl_easy_perform(handle)
        if code != CURLE_OK {
            return .failure(Self.classify(code, overflowed: sink.overflowed))
        }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(UpstreamResponse(status: status, body: sink.bytes))
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
