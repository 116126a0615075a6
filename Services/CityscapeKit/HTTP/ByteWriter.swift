public import NIOCore

/// Appends bytes to memory sized beforehand: many small pieces (a request line, a JSON key and its value) go
/// into a `ByteBuffer` as one write.
///
/// Each `ByteBuffer` write checks the buffer's capacity, its uniqueness and its exclusive access; for a piece
/// of a few bytes those checks cost more than the copy. Here they run once per `ByteBuffer.write(atMost:_:)`,
/// and each append only checks that it stays inside the space asked for (a piece beyond it is a bug in the
/// caller's size, and stops the process rather than writing past the buffer).
public struct ByteWriter {
    @usableFromInline let space: UnsafeMutableRawBufferPointer
    @usableFromInline var written = 0

    @inlinable init(_ space: UnsafeMutableRawBufferPointer) {
        self.space = space
    }

    /// The bytes appended so far.
    @inlinable public var count: Int { written }

    @inlinable public mutating func append(_ byte: UInt8) {
        precondition(written < space.count, "ByteWriter: more bytes than the space asked for")
        space[written] = byte
        written += 1
    }

    @inlinable public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= space.count - written, "ByteWriter: more bytes than the space asked for")
        UnsafeMutableRawBufferPointer(rebasing: space[written...]).copyMemory(from: bytes)
        written += bytes.count
    }

    @inlinable public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        append(UnsafeRawBufferPointer(bytes))
    }

    @inlinable public mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A string's UTF-8; a native string lends it as one buffer.
    @inlinable public mutating func append(_ text: some StringProtocol) {
        let copied = text.utf8.withContiguousStorageIfAvailable { append($0) }
        if copied == nil {
            for byte in text.utf8 { append(byte) }
        }
    }
}

extension ByteBuffer {
    /// Appends what `body` writes, at most `size` bytes, as one write into the buffer.
    @inlinable
    public mutating func write(atMost size: Int, _ body: (inout ByteWriter) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { space in
            var writer = ByteWriter(UnsafeMutableRawBufferPointer(rebasing: space[..<size]))
            body(&writer)
            return writer.count
        }
    }
}
