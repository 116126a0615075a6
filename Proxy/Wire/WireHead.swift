import NIOCore

/// An HTTP/1 message head as it arrived, parsed in place: the start line's three parts and each field
/// line are byte offsets into `bytes`, so nothing is copied, decoded or lowercased unless it is asked for.
///
/// The proxy reads every header of every message but forwards most of them untouched, so it compares
/// names as bytes and copies whole lines rather than building `String`s per header, which would cost more
/// per request than the rest of the forwarding.
struct WireHead {
    /// The head, from its start line through the empty line that ends it.
    let bytes: ByteBuffer
    /// Request: method, target, version. Response: version, status code, reason phrase.
    let startLine: (Range<Int>, Range<Int>, Range<Int>)
    let fields: [WireField]

    /// The bytes in `range` as a string (for values that leave the wire: logs, `HTTPHeaders`).
    func string(_ range: Range<Int>) -> String {
        bytes.getString(at: bytes.readerIndex + range.lowerBound, length: range.count) ?? ""
    }

    /// Whether the bytes in `range` equal `lowercased` ignoring ASCII case; `lowercased` must be lower case.
    func matches(_ range: Range<Int>, _ lowercased: StaticString) -> Bool {
        bytes.withUnsafeReadableBytes { Self.equal($0, range, lowercased, ignoringCase: true) }
    }

    /// Whether `head[range]` is `text`; with `ignoringCase`, ASCII letters of `head` are lowered first, so
    /// `text` must then be lower case. The one byte comparison behind `matches`, `exactly` and `FieldName`.
    static func equal(_ head: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: StaticString, ignoringCase: Bool) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        return text.withUTF8Buffer { expected in
            var index = 0
            while index < expected.count {
                let byte = head[range.lowerBound + index]
                guard (ignoringCase ? lowercased(byte) : byte) == expected[index] else { return false }
                index += 1
            }
            return true
        }
    }

    /// What the `Connection` fields say, read in one pass: `close`, `keep-alive` (HTTP/1.0's opt-in), and the
    /// other names they list, which are hop-by-hop for this message.
    func connectionOptions() -> (close: Bool, keepAlive: Bool, named: [Range<Int>]) {
        var options = (close: false, keepAlive: false, named: [Range<Int>]())
        forEachListElement(.connection) { token in
            if matches(token, "close") {
                options.close = true
            } else if matches(token, "keep-alive") {
                options.keepAlive = true
            } else {
                options.named.append(token)
            }
        }
        return options
    }

    /// Whether the version at `range` (a start line's `HTTP/1.x`, already checked by `HeadScanner`) is 1.0.
    func isHTTP10(_ range: Range<Int>) -> Bool {
        bytes.getInteger(at: bytes.readerIndex + range.upperBound - 1, as: UInt8.self) == UInt8(ascii: "0")
    }

    /// The first field called `name`, if any.
    func first(_ name: FieldName) -> WireField? {
        fields.first { $0.known == name }
    }

    /// How many fields are called `name`.
    func count(_ name: FieldName) -> Int {
        fields.reduce(0) { $0 + ($1.known == name ? 1 : 0) }
    }

    /// Calls `body` with each comma-separated element of the fields called `name`, trimmed of spaces and
    /// tabs, empty elements skipped (RFC 9110 §5.6.1 lists).
    func forEachListElement(_ name: FieldName, _ body: (Range<Int>) -> Void) {
        bytes.withUnsafeReadableBytes { head in
            for field in fields where field.known == name {
                var start = field.value.lowerBound
                for index in field.value.lowerBound...field.value.upperBound {
                    guard index == field.value.upperBound || head[index] == UInt8(ascii: ",") else { continue }
                    var (low, high) = (start, index)
                    while low < high && (head[low] == 0x20 || head[low] == 0x09) { low += 1 }
                    while high > low && (head[high - 1] == 0x20 || head[high - 1] == 0x09) { high -= 1 }
                    if low < high { body(low..<high) }
                    start = index + 1
                }
            }
        }
    }
}

/// One field line of a `WireHead`, as offsets into its bytes.
struct WireField {
    let name: Range<Int>
    /// The name, if it is one the proxy acts on.
    let known: FieldName
    /// Without the optional whitespace around it.
    let value: Range<Int>
    /// The whole line: from the name through its CRLF.
    let lineStart: Int
    let lineEnd: Int
}

extension WireHead {
    /// Whether two ranges of the head hold the same bytes, ignoring ASCII case (a name listed in `Connection`
    /// against a field name).
    func sameBytes(_ lhs: Range<Int>, _ rhs: Range<Int>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return bytes.withUnsafeReadableBytes { head in
            zip(lhs, rhs).allSatisfy { Self.lowercased(head[$0]) == Self.lowercased(head[$1]) }
        }
    }

    /// Whether the bytes in `range` are exactly `text` (case-sensitive).
    func exactly(_ range: Range<Int>, _ text: StaticString) -> Bool {
        bytes.withUnsafeReadableBytes { Self.equal($0, range, text, ignoringCase: false) }
    }

    /// The bytes in `range` as a non-negative decimal number (a `Content-Length`), nil unless they are 1 to 18 digits.
    func decimal(_ range: Range<Int>) -> Int? {
        guard !range.isEmpty && range.count <= 18 else { return nil }
        return bytes.withUnsafeReadableBytes { head -> Int? in
            var value = 0
            for index in range {
                let byte = head[index]
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
