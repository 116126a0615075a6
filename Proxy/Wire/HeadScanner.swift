import CityscapeKit
import NIOCore

/// Finds and parses message heads in the bytes read from one connection, strictly (RFC 9112):
/// lines end in CRLF, field names are tokens with the colon right after them, values hold no control
/// characters but tab, and obs-fold is refused, so what passes is read the same way by every hop after us.
///
/// Keeps how far it already searched, so a head arriving a few bytes per read costs one pass, not one per read.
struct HeadScanner {
    enum Kind {
        case request
        case response
    }

    enum Failure: Error, Equatable {
        /// No end of head within the limit.
        case tooLarge
        /// An HTTP version other than 1.0 and 1.1.
        case unsupportedVersion
        case malformed(String)
    }

    let kind: Kind
    /// The most bytes a head may take, its start line included.
    let limit: Int
    /// Whether heads are copied out of the bytes read rather than sliced from them (see `init`).
    let copiesHeads: Bool
    /// Bytes at the front of the buffer already searched for the end of the head.
    private var searched = 0
    /// The field array of the last head, filled again for the next one once that head is let go (it
    /// usually is), so a head costs no allocation for its fields.
    private var spareFields: [WireField] = []
    /// The bytes of the last head when `copiesHeads`, written again for the next one once that head is let go.
    private var spareBytes = ByteBuffer()
    /// The largest storage kept for the next head.
    static let maxSpareBytes = 8 * 1024

    /// - Parameter copiesHeads: for a head kept while its message is served (a request, until its response
    ///   ends). A head sliced from the bytes read keeps the loop's whole read buffer, so every request in
    ///   flight would make the loop allocate a new one; copied into storage the scanner reuses, it keeps only
    ///   its own bytes.
    init(kind: Kind, limit: Int, copiesHeads: Bool = false) {
        self.kind = kind
        self.limit = limit
        self.copiesHeads = copiesHeads
    }

    /// Takes the next complete head off the front of `buffer`, or returns nil when more bytes are needed.
    mutating func next(from buffer: inout ByteBuffer) throws(Failure) -> WireHead? {
        if searched == 0 { skipEmptyLines(&buffer) }
        guard let end = try findEnd(in: buffer) else {
            if kind == .request { try Self.checkRequestLineHasVersion(buffer) }
            searched = buffer.readableBytes
            if buffer.readableBytes > limit { throw .tooLarge }
            return nil
        }
        searched = 0
        if end > limit { throw .tooLarge }
        let bytes: ByteBuffer
        if copiesHeads {
            // Keeps the storage when the last head no longer holds it; otherwise gets new storage.
            spareBytes.clear()
            buffer.withUnsafeReadableBytes { _ = spareBytes.writeBytes(UnsafeRawBufferPointer(rebasing: $0[..<end])) }
            buffer.moveReaderIndex(forwardBy: end)
            bytes = spareBytes
            // A rare large head is not kept for the connection's life.
            if spareBytes.capacity > Self.maxSpareBytes { spareBytes = ByteBuffer() }
        } else {
            bytes = buffer.readSlice(length: end)!
        }
        var fields = spareFields
        spareFields = []
        // Keeps the storage when the last head no longer holds it; copies nothing either way.
        fields.removeAll(keepingCapacity: true)
        let head = try Self.parse(bytes, kind: kind, fields: &fields)
        spareFields = fields
        return head
    }

    /// A complete request line with no version (`GET /`, HTTP/0.9) is refused at once: its head would
    /// never end in an empty line, so waiting for one could only end in the header timeout.
    private static func checkRequestLineHasVersion(_ buffer: ByteBuffer) throws(Failure) {
        let spaces: Int? = buffer.withUnsafeReadableBytes { bytes in
            guard let lineEnd = bytes.firstIndex(of: 0x0D) else { return nil }
            return bytes[..<lineEnd].reduce(0) { $0 + ($1 == 0x20 ? 1 : 0) }
        }
        if let spaces, spaces < 2 { throw .malformed("the request line has no HTTP version (HTTP/0.9 is not served)") }
    }

    /// RFC 9112 §2.2: empty lines before a request line are ignored (clients send one after a POST body).
    private func skipEmptyLines(_ buffer: inout ByteBuffer) {
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
        }
    }

    /// The length of the head (through its CRLFCRLF), nil if it is not complete. A bare LF fails at once:
    /// no head of ours may use one, and waiting for a CRLFCRLF that never comes would only end in a timeout.
    private func findEnd(in buffer: ByteBuffer) throws(Failure) -> Int? {
        let from = max(0, searched - 3)
        let result: Int? = buffer.withUnsafeReadableBytes { bytes -> Int? in
            var index = from
            while index < bytes.count {
                if bytes[index] == 0x0A {
                    if index == 0 || bytes[index - 1] != 0x0D { return -1 }
                    if index >= 3 && bytes[index - 2] == 0x0A && bytes[index - 3] == 0x0D { return index + 1 }
                }
                index += 1
            }
            return nil
        }
        if result == -1 { throw .malformed("a line ends in a bare LF") }
        return result
    }

    // MARK: Parsing a complete head

    /// Parses a complete head; its field lines are appended to `fields` (empty, or a spare one to refill).
    static func parse(_ bytes: consuming ByteBuffer, kind: Kind, fields: inout [WireField]) throws(Failure) -> WireHead {
        let parts = try bytes.withUnsafeReadableBytes { (head) throws(Failure) in
            let (parts, fieldsStart) = try startLine(head, kind: kind)
            try fieldLines(head, from: fieldsStart, into: &fields)
            return parts
        }
        return WireHead(bytes: bytes, startLine: parts, fields: fields)
    }

    private static func startLine(_ head: UnsafeRawBufferPointer, kind: Kind) throws(Failure) -> ((Range<Int>, Range<Int>, Range<Int>), Int) {
        var index = 0
        func take(while accepted: (UInt8) -> Bool) -> Range<Int> {
            let start = index
            while index < head.count && accepted(head[index]) { index += 1 }
            return start..<index
        }
        func expect(_ byte: UInt8, _ what: String) throws(Failure) {
            guard index < head.count && head[index] == byte else { throw .malformed(what) }
            index += 1
        }
        switch kind {
        case .request:
            let method = take(while: HTTPToken.isTokenByte)
            guard !method.isEmpty else { throw .malformed("the request line does not start with a method") }
            try expect(0x20, "a single space must follow the method")
            let target = take { $0 > 0x20 && $0 < 0x7F }
            guard !target.isEmpty else { throw .malformed("the request target is missing or holds a forbidden byte") }
            try expect(0x20, "a single space must follow the request target")
            let version = take { $0 != 0x0D }
            try checkVersion(head, version)
            try expect(0x0D, "the request line is malformed")
            try expect(0x0A, "the request line is malformed")
            return ((method, target, version), index)
        case .response:
            let version = take { $0 != 0x20 && $0 != 0x0D }
            try checkVersion(head, version)
            try expect(0x20, "a space must follow the status line's version")
            let status = take { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard status.count == 3 else { throw .malformed("the status code is not three digits") }
            // The reason phrase may be empty, and then so may the space before it.
            if index < head.count && head[index] == 0x20 { index += 1 }
            let reason = take { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
            try expect(0x0D, "the status line holds a forbidden byte")
            try expect(0x0A, "the status line is malformed")
            return ((version, status, reason), index)
        }
    }

    /// Accepts HTTP/1.0 and HTTP/1.1; another well-formed version is `unsupportedVersion`.
    private static func checkVersion(_ head: UnsafeRawBufferPointer, _ range: Range<Int>) throws(Failure) {
        let digit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard range.count == 8,
            head[range.lowerBound] == UInt8(ascii: "H"), head[range.lowerBound + 1] == UInt8(ascii: "T"),
            head[range.lowerBound + 2] == UInt8(ascii: "T"), head[range.lowerBound + 3] == UInt8(ascii: "P"),
            head[range.lowerBound + 4] == UInt8(ascii: "/"), digit(head[range.lowerBound + 5]),
            head[range.lowerBound + 6] == UInt8(ascii: "."), digit(head[range.lowerBound + 7])
        else { throw .malformed("the HTTP version is malformed") }
        guard head[range.lowerBound + 5] == UInt8(ascii: "1"), head[range.lowerBound + 7] <= UInt8(ascii: "1") else {
            throw .unsupportedVersion
        }
    }

    private static func fieldLines(_ head: UnsafeRawBufferPointer, from start: Int, into fields: inout [WireField]) throws(Failure) {
        fields.reserveCapacity(12)
        var index = start
        // The head ends in an empty line, which ends the loop.
        while head[index] != 0x0D {
            let lineStart = index
            if head[index] == 0x20 || head[index] == 0x09 { throw .malformed("obsolete line folding is not accepted") }
            var underscore = false
            while HTTPToken.isTokenByte(head[index]) {
                if head[index] == UInt8(ascii: "_") { underscore = true }
                index += 1
            }
            guard index > lineStart, head[index] == UInt8(ascii: ":") else {
                throw .malformed("a header name is empty, holds a forbidden byte or is followed by space before its colon")
            }
            let name = lineStart..<index
            index += 1
            while head[index] == 0x20 || head[index] == 0x09 { index += 1 }
            let valueStart = index
            var valueEnd = index
            while head[index] != 0x0D {
                let byte = head[index]
                guard byte == 0x09 || (byte >= 0x20 && byte != 0x7F) else { throw .malformed("a header value holds a control character") }
                index += 1
                if byte != 0x20 && byte != 0x09 { valueEnd = index }
            }
            // `findEnd` saw every LF preceded by a CR; a CR must be followed by its LF.
            guard head[index + 1] == 0x0A else { throw .malformed("a header line holds a bare CR") }
            index += 2
            let known = underscore ? FieldName.underscored : FieldName.of(head, name)
            fields.append(WireField(name: name, known: known, value: valueStart..<valueEnd, lineStart: lineStart, lineEnd: index))
        }
        guard head[index + 1] == 0x0A else { throw .malformed("the head ends in a bare CR") }
    }

}
