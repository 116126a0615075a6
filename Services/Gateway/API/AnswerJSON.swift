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
        let comma = needsComma
        needsComma = true
        buffer.write(atMost: name.utf8.count + 4) { json in
            if comma { json.write(UInt8(ascii: ",")) }
            json.write(UInt8(ascii: "\""))
            json.write(string: name)
            json.write("\":")
        }
    }

    mutating func string(_ value: some StringProtocol) {
        // A native string lends its UTF-8 as one buffer: checked and copied in two tight loops, not byte by byte.
        let written = value.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.allSatisfy(JSONText.needsNoEscape) else { return false }
            writeQuoted(bytes)
            return true
        }
        if written != true {
            buffer.writeInteger(UInt8(ascii: "\""))
            writeEscaped(value)
            buffer.writeInteger(UInt8(ascii: "\""))
        }
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
        if value.allSatisfy(JSONText.needsNoEscape) {
            writeQuoted(value)
        } else {
            buffer.writeInteger(UInt8(ascii: "\""))
            writeEscaped(String(decoding: value, as: UTF8.self))
            buffer.writeInteger(UInt8(ascii: "\""))
        }
    }

    /// Bytes that need no escaping, between quotes, in one write.
    private mutating func writeQuoted(_ bytes: UnsafeBufferPointer<UInt8>) {
        buffer.write(atMost: bytes.count + 2) { json in
            json.write(UInt8(ascii: "\""))
            json.write(bytes)
            json.write(UInt8(ascii: "\""))
        }
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
