#if canImport(Glibc)
    import Glibc
#endif

/// The process's open-file limit, raised so every allowed connection can be opened.
enum FileDescriptorLimit {
    /// Raises the soft limit to `wanted` (capped at the hard limit); a failure leaves it as it is,
    /// and connections beyond it then fail to open and are recorded as connect errors.
    static func raise(toAtLeast wanted: Int) {
        #if canImport(Glibc)
            let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
            var limit = rlimit()
            guard getrlimit(resource, &limit) == 0, limit.rlim_cur < rlim_t(wanted) else { return }
            limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
            _ = setrlimit(resource, &limit)
        #endif
    }
}
