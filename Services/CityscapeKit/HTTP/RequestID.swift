/// A request's id: the client's `X-Request-ID` when it is sane, a fresh one otherwise. Used by the services'
/// `RequestIDMiddleware` and by the proxy's forwarding handler, so both follow the same rules: up to 128
/// characters from a safe set, so a hostile header cannot inject text into log lines.
public enum RequestID {
    public static func accept(_ candidate: String?, generator: inout some RandomNumberGenerator) -> String {
        guard let candidate, (1...128).contains(candidate.utf8.count), candidate.utf8.allSatisfy(isAllowed) else {
            return generate(using: &generator)
        }
        return candidate
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "-_.:/+=".utf8.contains(byte)
        }
    }

    /// 128 random bits as 32 hex digits (`text(_:_:)`).
    public static func generate(using generator: inout some RandomNumberGenerator) -> String {
        let high = generator.next()
        return text(high, generator.next())
    }

    /// The id of 128 bits, `high` then `low`, as 32 lower-case hex digits, written in place (one allocation: this
    /// runs for most requests).
    public static func text(_ high: UInt64, _ low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            let digits = UnsafeMutableRawPointer(buffer.baseAddress!)
            ByteWriter.hexDigits(of: high, into: digits)
            ByteWriter.hexDigits(of: low, into: digits + 16)
            return 32
        }
    }
}

/// SplitMix64, seeded from the system generator: request ids must be unique, not secret, and the system
/// generator costs a `getrandom` call per number. Keep one per connection (the proxy does) or per request,
/// so no state is shared between threads.
public struct RequestIDGenerator: RandomNumberGenerator {
    private var state: UInt64

    public init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.mix(state)
    }

    static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// SplitMix64's finaliser: a bijection, so distinct states give distinct numbers.
    @inline(__always) static func mix(_ state: UInt64) -> UInt64 {
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
