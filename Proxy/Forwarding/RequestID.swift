/// The proxy's request id: the client's `X-Request-ID` when it is sane, a fresh one otherwise.
///
/// Same rules as CityscapeKit's `RequestIDMiddleware` (which is bound to the services' context type):
/// up to 128 characters from a safe set, so a hostile header cannot inject text into log lines.
enum RequestID {
    static func accept(_ candidate: String?) -> String {
        guard let candidate, (1...128).contains(candidate.utf8.count), candidate.utf8.allSatisfy(isAllowed) else { return generate() }
        return candidate
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "-_.:/+=".utf8.contains(byte)
        }
    }

    /// 128 random bits as 32 hex digits.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = String(generator.next() as UInt64, radix: 16)
        let low = String(generator.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }
}
