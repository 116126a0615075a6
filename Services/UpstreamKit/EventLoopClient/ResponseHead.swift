import CityscapeKit

/// What frames a response, read in place from the bytes of its head: the status, whether the connection stays
/// open, and how the body is delimited. No header becomes a string; only `Content-Length`, `Transfer-Encoding` and
/// `Connection` are read, and every other line is only checked for being a well-formed field.
struct ResponseHead: Equatable {
    var status: Int
    var keepAlive: Bool
    var framing: ResponseParser.Framing
    /// The bytes of the head, its empty last line included.
    var length: Int

    enum Scan: Equatable {
        /// No empty line yet, and nothing wrong in the bytes so far.
        case incomplete
        case invalid(String)
        case complete(ResponseHead)
    }

    /// Reads the head at the start of `bytes`.
    static func scan(_ bytes: UnsafeRawBufferPointer) -> Scan {
        // The version is checked before the line is complete, so bytes that are not HTTP fail at once instead of
        // waiting for a line end that may never come.
        let prefix = min(bytes.count, httpPrefix.count)
        guard bytes[0..<prefix].elementsEqual(httpPrefix[0..<prefix]) else { return .invalid("it does not start with HTTP/1.") }
        guard let statusLine = line(bytes, from: 0) else { return .incomplete }
        guard case .content(let end, let next) = statusLine else { return .invalid(bareLF) }
        guard end >= 12, bytes[7] == UInt8(ascii: "1") || bytes[7] == UInt8(ascii: "0"), bytes[8] == UInt8(ascii: " ") else {
            return .invalid("the status line is not HTTP/1.1 or HTTP/1.0 and a status")
        }
        let http11 = bytes[7] == UInt8(ascii: "1")
        var status = 0
        for index in 9..<12 {
            guard isDigit(bytes[index]) else { return .invalid("the status is not three digits") }
            status = status * 10 + Int(bytes[index] - UInt8(ascii: "0"))
        }
        guard status >= 100 else { return .invalid("the status \(status) is below 100") }
        guard end == 12 || bytes[12] == UInt8(ascii: " ") else { return .invalid("the status is not followed by a space") }
        guard end <= 13 || bytes[13..<end].allSatisfy(isFieldByte) else { return .invalid("the reason phrase holds a control character") }

        var fields = Fields()
        var start = next
        while true {
            guard let fieldLine = line(bytes, from: start) else { return .incomplete }
            guard case .content(let end, let next) = fieldLine else { return .invalid(bareLF) }
            if end == start {
                return fields.head(status: status, http11: http11, length: next)
            }
            if let reason = fields.read(bytes, from: start, to: end) { return .invalid(reason) }
            start = next
        }
    }

    // MARK: Lines

    private static let httpPrefix: [UInt8] = Array("HTTP/1.".utf8)

    private enum Line {
        /// The line's content ends at `end` (its CR); the next line starts at `next`.
        case content(end: Int, next: Int)
        case bareLF
    }

    /// The line starting at `start`, nil while its LF has not arrived.
    private static func line(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Line? {
        guard let lf = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        guard lf > start, bytes[lf - 1] == UInt8(ascii: "\r") else { return .bareLF }
        return .content(end: lf - 1, next: lf + 1)
    }

    private static let bareLF = "a line ends with a bare LF"

    // MARK: Fields

    /// The fields that frame the response, gathered line by line.
    private struct Fields {
        var contentLength: Int?
        var chunked = false
        var close = false
        var keepAliveToken = false

        /// Reads the field on `bytes[start..<end]`; the reason it is refused, or nil.
        mutating func read(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> String? {
            guard !isWhitespace(bytes[start]) else { return "a header is folded onto the line before (obsolete line folding)" }
            var colon = start
            while colon < end, HTTPToken.isTokenByte(bytes[colon]) { colon += 1 }
            guard colon < end, colon > start, bytes[colon] == UInt8(ascii: ":") else { return "a header line has no valid name and colon" }
            let name = bytes[start..<colon]
            var valueStart = colon + 1
            var valueEnd = end
            while valueStart < valueEnd, isWhitespace(bytes[valueStart]) { valueStart += 1 }
            while valueEnd > valueStart, isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
            let value = bytes[valueStart..<valueEnd]
            guard value.allSatisfy(isFieldByte) else { return "a header value holds a control character" }
            if equalsIgnoringCase(name, "content-length") {
                return readContentLength(value)
            } else if equalsIgnoringCase(name, "transfer-encoding") {
                // Only `chunked` frames a body this client can read; any other coding, or a second list, is refused.
                guard !chunked, equalsIgnoringCase(value, "chunked") else { return "the transfer coding is not just chunked" }
                chunked = true
            } else if equalsIgnoringCase(name, "connection") {
                // A token list, walked in place rather than split into an array.
                var tokenStart = valueStart
                while tokenStart <= valueEnd {
                    let tokenEnd = value[tokenStart...].firstIndex(of: UInt8(ascii: ",")) ?? valueEnd
                    let token = trimmed(bytes[tokenStart..<tokenEnd])
                    if equalsIgnoringCase(token, "close") { close = true }
                    if equalsIgnoringCase(token, "keep-alive") { keepAliveToken = true }
                    tokenStart = tokenEnd + 1
                }
            }
            return nil
        }

        private mutating func readContentLength(_ value: Slice<UnsafeRawBufferPointer>) -> String? {
            // Few enough digits that the sum cannot overflow `Int`; a body anywhere near that is refused by its limit anyway.
            guard !value.isEmpty, value.count <= ResponseHead.maximumLengthDigits, value.allSatisfy(isDigit) else {
                return "the Content-Length is not a number"
            }
            let length = value.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard contentLength == nil || contentLength == length else { return "two Content-Length values disagree" }
            contentLength = length
            return nil
        }

        /// The head these fields complete (RFC 9112 §6.3), or why it cannot be framed.
        func head(status: Int, http11: Bool, length: Int) -> Scan {
            guard status != 101 else { return .invalid("101 Switching Protocols, which no request here asks for") }
            guard !(chunked && contentLength != nil) else { return .invalid("both Transfer-Encoding and Content-Length") }
            let framing: ResponseParser.Framing
            if status < 200 || status == 204 || status == 304 {
                framing = .none
            } else if chunked {
                framing = .chunked
            } else if let contentLength {
                framing = .length(contentLength)
            } else {
                framing = .untilClose
            }
            // A chunked HTTP/1.0 response may be framed wrongly by a proxy in between, so its connection is not reused.
            let keepAlive = !close && (http11 || (keepAliveToken && !chunked)) && framing != .untilClose
            return .complete(ResponseHead(status: status, keepAlive: keepAlive, framing: framing, length: length))
        }
    }

    /// The most digits a `Content-Length` may have: any such number fits in `Int`.
    private static let maximumLengthDigits = 18

    // MARK: Bytes

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// A byte a field value or reason phrase may hold: tab, space, visible ASCII or beyond ASCII (RFC 9110 §5.5).
    private static func isFieldByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
    }

    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isWhitespace(bytes[start]) { start += 1 }
        while end > start, isWhitespace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    /// ASCII case-insensitive equality with a lowercase literal of letters and hyphens.
    private static func equalsIgnoringCase(_ bytes: Slice<UnsafeRawBufferPointer>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            var index = bytes.startIndex
            for byte in expected {
                // Setting bit 5 lowercases a letter; the other bytes of a token never become a letter or a hyphen by it.
                guard bytes[index] | 0x20 == byte else { return false }
                index += 1
            }
            return true
        }
    }
}
