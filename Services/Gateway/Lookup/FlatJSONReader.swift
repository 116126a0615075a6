/// Reads the small JSON answers of the upstreams straight from their body bytes, without Foundation.
///
/// It reads a strict subset of JSON: objects whose keys are plain strings, and values that are plain strings,
/// finite numbers without an exponent, `true`, `false`, `null` or such objects. A string is plain when it holds no
/// backslash and no control character and is valid UTF-8; a key is a plain ASCII string. Anything else (an escape, an exponent, an array,
/// a duplicate key, a value of the wrong kind) makes a read return nil, and the caller then decodes the body
/// with `JSONDecoder`, so the outcome is always `JSONDecoder`'s: the subset only decides who computes it.
/// `UpstreamDecoding` holds the two answers the gateway reads this way.
///
/// It reads through a pointer to the body, lent for one ``read(_:_:)``: an array read inside a mutating method is
/// retained and released around each access, which cost more than the scanning itself.
struct FlatJSONReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Runs `body` with a reader of `document`; the reader must not outlive the call.
    static func read<Result>(_ document: [UInt8], _ body: (inout FlatJSONReader) -> Result) -> Result {
        document.withUnsafeBufferPointer { bytes in
            var reader = FlatJSONReader(bytes)
            return body(&reader)
        }
    }

    /// Reads a whole document that is one object, calling `member` with each key; `member` must read the value
    /// (or skip it) and return false to give up. False when the document is outside the subset.
    mutating func document(_ member: (_ key: Slice<UnsafeBufferPointer<UInt8>>, _ reader: inout FlatJSONReader) -> Bool) -> Bool {
        guard object(member) else { return false }
        skipWhitespace()
        return index == bytes.count
    }

    /// Reads an object, calling `member` with each key as for ``document(_:)``.
    mutating func object(_ member: (_ key: Slice<UnsafeBufferPointer<UInt8>>, _ reader: inout FlatJSONReader) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        repeat {
            // Keys are ASCII here (all the answers' keys are), which spares validating their UTF-8.
            guard let key = plainString(), key.allSatisfy({ $0 < 0x80 }), consume(UInt8(ascii: ":")), member(key, &self) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}"))
    }

    /// A plain string value.
    mutating func string() -> String? {
        plainString().flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// A plain string or `null` (`.some(nil)`); nil when the value is neither.
    mutating func optionalString() -> String?? {
        if consumeLiteral("null") { return .some(nil) }
        return string().map { .some($0) }
    }

    /// A plain string's bytes, valid UTF-8 and borrowed from the document, or `null` (`.some(nil)`); nil when the
    /// value is neither. For a caller that copies several strings into one.
    mutating func optionalText() -> Slice<UnsafeBufferPointer<UInt8>>?? {
        if consumeLiteral("null") { return .some(nil) }
        guard let text = plainString(), Self.isValidUTF8(text) else { return nil }
        return .some(text)
    }

    /// What `String(validating:)` accepts, checked without building the string; ASCII, the common case, in one pass.
    private static func isValidUTF8(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        if bytes.allSatisfy({ $0 < 0x80 }) { return true }
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// A number without an exponent, as `Double` (which reads it correctly rounded, as `JSONDecoder` does).
    mutating func double() -> Double? {
        // A literal too long for `Double` reads as infinity, which `JSONDecoder` refuses: outside the subset.
        number(fraction: true).flatMap { Double(String(decoding: $0, as: UTF8.self)) }.flatMap { $0.isFinite ? $0 : nil }
    }

    /// An integer: digits with an optional minus, no fraction and no exponent, within `Int`'s range.
    mutating func integer() -> Int? {
        number(fraction: false).flatMap { Int(String(decoding: $0, as: UTF8.self)) }
    }

    /// Skips a value of a key the caller does not read; only strings, numbers and literals are skipped.
    mutating func skipScalar() -> Bool {
        skipWhitespace()
        guard index < bytes.count else { return false }
        switch bytes[index] {
        // Checked as `string()` checks it, without building a string that is thrown away.
        case UInt8(ascii: "\""): return plainString().map(Self.isValidUTF8) ?? false
        case UInt8(ascii: "t"): return consumeLiteral("true")
        case UInt8(ascii: "f"): return consumeLiteral("false")
        case UInt8(ascii: "n"): return consumeLiteral("null")
        default: return number(fraction: true) != nil
        }
    }

    // MARK: Tokens

    /// The bytes between the quotes of a string with no backslash and no control character (UTF-8 unchecked).
    private mutating func plainString() -> Slice<UnsafeBufferPointer<UInt8>>? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return bytes[start..<index - 1]
            }
            guard byte != UInt8(ascii: "\\"), byte >= 0x20 else { return nil }
            index += 1
        }
        return nil
    }

    /// `-?(0|[1-9][0-9]*)` followed, when `fraction`, by an optional `.[0-9]+`; an exponent is outside the subset.
    private mutating func number(fraction: Bool) -> Slice<UnsafeBufferPointer<UInt8>>? {
        skipWhitespace()
        let start = index
        _ = consumeByte(UInt8(ascii: "-"))
        guard index < bytes.count, isDigit(bytes[index]) else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        if fraction, consumeByte(UInt8(ascii: ".")) {
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            skipDigits()
        }
        // Whatever follows must end the number: `.`, `e`, `E` or a digit here are outside the subset.
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "0")...UInt8(ascii: "9"): return nil
            default: break
            }
        }
        return bytes[start..<index]
    }

    private mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        skipWhitespace()
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        let matches = literal.withUTF8Buffer { bytes[index..<index + count].elementsEqual($0) }
        guard matches else { return false }
        index += count
        // `nullx` or `true1` is not a literal.
        if index < bytes.count, isLetterOrDigit(bytes[index]) { return false }
        return true
    }

    /// Skips whitespace, then consumes `byte` if it comes next.
    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        return consumeByte(byte)
    }

    private mutating func consumeByte(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipDigits() {
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }

    /// JSON's four whitespace bytes: space, tab, line feed, carriage return.
    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private func isLetterOrDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }
}
