/// RFC 9110 §5.6.2 `token` characters (`tchar`), as one bit test: the proxy's head scanner passes every byte of
/// every field name through it, and the gateway's upstream client checks the header names it writes. Also the
/// `HEXDIG` of chunk sizes and percent escapes, read by the proxy, the gateway's upstream client and its query.
public enum HTTPToken {
    /// Whether `byte` is a `tchar`: a letter, a digit or one of ``!#$%&'*+-.^_`|~``.
    ///
    /// The masks are literals, not stored constants, so the inlined test in another module reads no global.
    @inlinable @inline(__always)
    public static func isTokenByte(_ byte: UInt8) -> Bool {
        // Bit n of the first mask: byte n is a tchar (`!#$%&'*+-.` and the digits); of the second: byte 64 + n is
        // (the letters and ``^_`|~``).
        let mask: UInt64 = byte < 64 ? 0x03FF_6CFA_0000_0000 : 0x57FF_FFFF_C7FF_FFFE
        return byte < 128 && (mask >> UInt64(byte & 63)) & 1 == 1
    }

    /// The value of a `HEXDIG` (RFC 5234, either case), or nil for any other byte.
    @inlinable
    public static func hexDigitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
