/// A minimal JSON writer that keeps keys in the order they are written.
///
/// Used where an answer's bytes matter: the sun service's field order is part of the sunrise-sunset.org
/// contract (Foundation's `JSONEncoder` does not preserve order), and the gateway writes every answer with it,
/// where `JSONEncoder`'s reflection-based encoding is a measurable share of the CPU per request.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    /// `capacity`: the expected size, so a body is written without regrowing its buffer.
    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }
    private var needsComma = false

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    /// A string whose bytes `write` appends and which needs no escaping (digits, `:`, `-`, `+`, `T`, letters).
    public mutating func quotedASCII(_ write: (inout [UInt8]) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        write(&bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    public mutating func integer(_ value: Int) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    /// A finite number, shortest form that reads back as the same `Double` (what `JSONEncoder` writes).
    public mutating func number(_ value: Double) {
        separate()
        bytes.append(contentsOf: JSONText.number(value).utf8)
        needsComma = true
    }

    /// A string, or `null` when absent.
    public mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// RFC 8259 string escaping (``JSONText``): quote, backslash and control characters; everything else is UTF-8 as is.
    private mutating func appendQuoted(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            if JSONText.needsNoEscape(byte) {
                bytes.append(byte)
            } else {
                bytes.append(contentsOf: JSONText.escapeSequence(byte).utf8)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// The JSON text both writers produce the same way: `JSONWriter` into an array, the gateway's answer straight into
/// a response buffer.
public enum JSONText {
    /// Whether a string byte goes out as it is: anything but the quote, the backslash and control characters.
    @inlinable
    public static func needsNoEscape(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
    }

    /// RFC 8259's escape for a byte that ``needsNoEscape(_:)`` refuses: the short form where there is one, else
    /// `\u00XX`.
    public static func escapeSequence(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\""): return #"\""#
        case UInt8(ascii: "\\"): return #"\\"#
        case UInt8(ascii: "\n"): return #"\n"#
        case UInt8(ascii: "\r"): return #"\r"#
        case UInt8(ascii: "\t"): return #"\t"#
        default:
            let hex = String(byte, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }

    /// A finite number in the shortest form that reads back as the same `Double` (what `JSONEncoder` writes): an
    /// integer without a fraction below 10^15; `null` for infinities and NaN, which JSON cannot hold.
    public static func number(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            String(Int64(value))
        } else if value.isFinite {
            value.description
        } else {
            "null"
        }
    }
}
