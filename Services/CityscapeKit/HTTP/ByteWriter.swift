public import NIOCore

/// Writes many small pieces (the names, values and separators of a message head, the keys and strings of a JSON
/// body) into a `ByteBuffer`'s memory in one access.
///
/// Written one `ByteBuffer` call at a time, each piece pays the buffer's capacity check, its copy-on-write check,
/// its exclusivity check and a retain of its storage, which for a piece of a few bytes cost more than the copy;
/// written here, a piece is a bounds check and a `memcpy`. The caller states an upper bound of what it writes
/// (`ByteBuffer.write(atMost:_:)`), for which the buffer makes room; writing past the room it made stops the process
/// rather than write outside the buffer. Used by
/// the proxy's forwarded heads, the gateway's upstream requests and its answer's body. Inlinable, so each of them
/// gets it specialised into its own code.
public struct ByteWriter: ~Copyable {
    @usableFromInline let space: UnsafeMutableRawBufferPointer
    @usableFromInline var written = 0

    /// Bytes written so far.
    @inlinable public var count: Int { written }

    @inlinable init(_ space: UnsafeMutableRawBufferPointer) {
        self.space = space
    }

    @inlinable public mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(bytes.count <= space.count - count, "ByteWriter: more bytes than the room it was given")
        (space.baseAddress! + count).copyMemory(from: source, byteCount: bytes.count)
        written += bytes.count
    }

    @inlinable public mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        write(UnsafeRawBufferPointer(bytes))
    }

    @inlinable public mutating func write(_ text: StaticString) {
        write(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Named apart from `write(_: StaticString)`, which a literal would otherwise not reach: Swift prefers
    /// `String` for a literal when both overloads exist.
    @inlinable public mutating func write(string text: String) {
        // Native strings are contiguous: no copy, and no retain as `withUTF8` would take.
        let written: Void? = text.utf8.withContiguousStorageIfAvailable { write(UnsafeRawBufferPointer($0)) }
        if written == nil { for byte in text.utf8 { write(byte) } }
    }

    @inlinable public mutating func write(_ byte: UInt8) {
        precondition(count < space.count, "ByteWriter: more bytes than the room it was given")
        space[count] = byte
        written += 1
    }

    /// A non-negative number in decimal (a `Content-Length`).
    @inlinable public mutating func write(decimal value: Int) {
        precondition(value >= 0, "only non-negative numbers are written")
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        precondition(digits <= space.count - count, "ByteWriter: more bytes than the room it was given")
        rest = value
        for index in stride(from: count + digits - 1, through: count, by: -1) {
            space[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        written += digits
    }

    /// The most bytes `write(decimal:)` writes.
    public static let maxDecimalBytes = 20

    /// `value` as 16 lower-case hex digits, leading zeros included.
    @inlinable public mutating func write(hex value: UInt64) {
        precondition(16 <= space.count - count, "ByteWriter: more bytes than the room it was given")
        Self.hexDigits(of: value, into: space.baseAddress! + count)
        written += 16
    }

    /// Writes `value` as 16 lower-case hex digits at `digits`, most significant first.
    @inlinable public static func hexDigits(of value: UInt64, into digits: UnsafeMutableRawPointer) {
        var rest = value
        for index in stride(from: 15, through: 0, by: -1) {
            let nibble = UInt8(truncatingIfNeeded: rest & 0xF)
            digits.storeBytes(of: nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble, toByteOffset: index, as: UInt8.self)
            rest >>= 4
        }
    }
}

extension ByteBuffer {
    /// Appends what `body` writes, which must be at most `size` bytes, as one write into the buffer.
    @inlinable
    public mutating func write(atMost size: Int, _ body: (inout ByteWriter) -> Void) {
        _ = writeWithUnsafeMutableBytes(minimumWritableBytes: size) { space in
            var writer = ByteWriter(space)
            body(&writer)
            return writer.count
        }
    }
}
