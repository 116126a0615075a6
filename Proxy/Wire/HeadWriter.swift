import NIOCore

/// Writes a message head into a `ByteBuffer`'s memory in one access, from byte ranges of the head it is
/// derived from and from short texts.
///
/// A head is some thirty small pieces (names, values, separators, copied field lines). Written one
/// `ByteBuffer` call at a time, each piece pays the buffer's copy-on-write check, its exclusivity check and
/// a retain of its storage; written here, a piece is a bounds check and a `memcpy`. The caller states an
/// upper bound of what it writes (`ByteBuffer.writeHead`); going past it stops the process rather than
/// write outside the buffer.
struct HeadWriter: ~Copyable {
    private let space: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    private(set) var count = 0

    fileprivate init(_ space: UnsafeMutableRawBufferPointer) {
        self.space = space
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(bytes.count <= space.count - count, "a head outgrew the bound its writer was given")
        (space.baseAddress! + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func write(_ text: StaticString) {
        write(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Named apart from `write(_: StaticString)`, which a literal would otherwise not reach: Swift prefers
    /// `String` for a literal when both overloads exist.
    mutating func write(string text: String) {
        // Native strings (all the proxy writes) are contiguous: no copy, and no retain as `withUTF8` would take.
        let written: Void? = text.utf8.withContiguousStorageIfAvailable { write(UnsafeRawBufferPointer($0)) }
        if written == nil { for byte in text.utf8 { write(byte) } }
    }

    private mutating func write(_ byte: UInt8) {
        precondition(count < space.count, "a head outgrew the bound its writer was given")
        space[count] = byte
        count += 1
    }

    /// A non-negative number in decimal (a `Content-Length`).
    mutating func write(decimal value: Int) {
        precondition(value >= 0, "only non-negative numbers are written")
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        precondition(digits <= space.count - count, "a head outgrew the bound its writer was given")
        rest = value
        for index in stride(from: count + digits - 1, through: count, by: -1) {
            space[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        count += digits
    }

    /// The most bytes `write(decimal:)` writes.
    static let maxDecimalBytes = 20

    /// `value` as 16 lower-case hex digits, leading zeros included.
    mutating func write(hex value: UInt64) {
        precondition(16 <= space.count - count, "a head outgrew the bound its writer was given")
        Self.hexDigits(of: value, into: space.baseAddress! + count)
        count += 16
    }

    /// Writes `value` as 16 hex digits at `digits`, most significant first.
    static func hexDigits(of value: UInt64, into digits: UnsafeMutableRawPointer) {
        var rest = value
        for index in stride(from: 15, through: 0, by: -1) {
            let nibble = UInt8(truncatingIfNeeded: rest & 0xF)
            digits.storeBytes(of: nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble, toByteOffset: index, as: UInt8.self)
            rest >>= 4
        }
    }
}

extension ByteBuffer {
    /// Appends what `body` writes, which must be at most `maximumBytes`.
    mutating func writeHead(maximumBytes: Int, _ body: (inout HeadWriter) -> Void) {
        _ = writeWithUnsafeMutableBytes(minimumWritableBytes: maximumBytes) { space in
            var writer = HeadWriter(space)
            body(&writer)
            return writer.count
        }
    }
}
