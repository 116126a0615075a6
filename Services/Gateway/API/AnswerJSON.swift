import CityscapeKit
import NIOCore

/// JSON written straight into the bytes of a response body, for the gateway's answer.
///
/// CityscapeKit's `JSONWriter` appends to an array byte by byte, and its bytes are then copied into the body's
/// buffer; here strings that need no escaping (all that the upstreams' answers hold) go in with one copy each, and
/// the buffer is the body. Escaping and numbers follow `JSONText`, as `JSONWriter` does.
struct AnswerJSON {
    private(set) var buffer: ByteBuffer
    private var needsComma = false

    /// `capacity`: the expected size, so the body is written without regrowing its buffer.
    init(capacity: Int) {
        buffer = ByteBuffer()
        buffer.reserveCapacity(capacity)
        buffer.writeInteger(UInt8(ascii: "{"))
    }

    /// Ends the object; the body is complete.
    mutating func end() {
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// `"name":`; names are the answer's own keys, which need no escaping.
    mutating func key(_ name: String) {
        if needsComma { buffer.writeInteger(UInt8(ascii: ",")) }
        needsComma = true
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeString(name)
        buffer.writeStaticString("\":")
    }

    mutating func string(_ value: some StringProtocol) {
        buffer.writeInteger(UInt8(ascii: "\""))
        // A native string lends its UTF-8 as one buffer: checked and copied in two tight loops, not byte by byte.
        let written = value.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.allSatisfy(JSONText.needsNoEscape) else { return false }
            buffer.writeBytes(bytes)
            return true
        }
        if written != true { writeEscaped(value) }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// A string, or `null` when absent.
    mutating func optionalString(_ value: Substring?) {
        if let value { string(value) } else { buffer.writeStaticString("null") }
    }

    /// A string given as its valid UTF-8, or `null` when absent.
    mutating func optionalString(utf8 value: UnsafeBufferPointer<UInt8>?) {
        guard let value else {
            buffer.writeStaticString("null")
            return
        }
        buffer.writeInteger(UInt8(ascii: "\""))
        if value.allSatisfy(JSONText.needsNoEscape) {
            buffer.writeBytes(value)
        } else {
            writeEscaped(String(decoding: value, as: UTF8.self))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    mutating func integer(_ value: Int) {
        buffer.writeString(String(value))
    }

    /// A finite number in the shortest form that reads back as the same `Double`, as `JSONWriter` and `JSONEncoder` write it.
    mutating func number(_ value: Double) {
        buffer.writeString(JSONText.number(value))
    }

    /// RFC 8259 string escaping (`JSONText`): quote, backslash and control characters; everything else is UTF-8 as is.
    private mutating func writeEscaped(_ value: some StringProtocol) {
        for byte in value.utf8 {
            if JSONText.needsNoEscape(byte) {
                buffer.writeInteger(byte)
            } else {
                buffer.writeString(JSONText.escapeSequence(byte))
            }
        }
    }
}
