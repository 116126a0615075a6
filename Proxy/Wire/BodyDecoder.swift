import CityscapeKit
import NIOCore

/// Cuts one message body out of the bytes read from a connection, by its framing: the payload comes out
/// as slices of what was read (no copy), chunk framing and trailers are taken off, and the end is reported
/// exactly where the message ends, so the next message's bytes stay in the buffer.
struct BodyDecoder {
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        /// Delimited by the connection's close (a response without length or chunking).
        case untilClose
    }

    enum Output {
        case data(ByteBuffer)
        case end
    }

    struct Failure: Error, Equatable {
        let reason: String
    }

    /// The longest chunk-size line (with extensions) or trailer section accepted.
    static let maxLineBytes = 4096

    private enum State {
        case length(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(seen: Int)
        case untilClose
        case done
    }

    private var state: State

    init(_ framing: Framing) {
        switch framing {
        case .none: state = .done
        case .length(let length): state = length == 0 ? .done : .length(remaining: length)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
    }

    /// Whether the body can only end with the connection.
    var endsWithClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// The next piece of the body from the front of `buffer`, or nil when more bytes are needed.
    /// After `.end`, `buffer` holds whatever follows the message.
    mutating func next(from buffer: inout ByteBuffer) throws(Failure) -> Output? {
        while true {
            switch state {
            case .done:
                return .end
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .data(buffer.readSlice(length: buffer.readableBytes)!)
            case .length(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                state = count == remaining ? .done : .length(remaining: remaining - count)
                return .data(buffer.readSlice(length: count)!)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                state = count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .data(buffer.readSlice(length: count)!)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw Failure(reason: "chunk data is not followed by CRLF") }
                state = .chunkSize
            case .chunkSize:
                guard let line = try Self.readLine(&buffer) else { return nil }
                let size = try Self.chunkSize(line)
                state = size == 0 ? .trailers(seen: 0) : .chunkData(remaining: size)
            case .trailers(let seen):
                // Trailer fields are dropped (nothing of ours forwards them), but each must be a valid field
                // line: a request line or an obs-fold here is a smuggling attempt, not a trailer.
                guard let line = try Self.readLine(&buffer) else { return nil }
                if line.readableBytes == 0 {
                    state = .done
                } else {
                    guard seen + line.readableBytes <= Self.maxLineBytes else { throw Failure(reason: "trailer section too large") }
                    guard Self.isFieldLine(line) else { throw Failure(reason: "a trailer line is not a valid header field") }
                    state = .trailers(seen: seen + line.readableBytes)
                }
            }
        }
    }

    /// RFC 9112 §5: a token, a colon right after it, then a value with no control character but tab.
    private static func isFieldLine(_ line: ByteBuffer) -> Bool {
        line.withUnsafeReadableBytes { bytes in
            var index = 0
            while index < bytes.count && HTTPToken.isTokenByte(bytes[index]) { index += 1 }
            guard index > 0, index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
            return bytes[(index + 1)...].allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
        }
    }

    /// Reads one CRLF-terminated line (without its CRLF), nil if it is not complete yet.
    private static func readLine(_ buffer: inout ByteBuffer) throws(Failure) -> ByteBuffer? {
        let found: Int? = buffer.withUnsafeReadableBytes { bytes in
            bytes.firstIndex(of: 0x0A)
        }
        guard let newline = found else {
            if buffer.readableBytes > maxLineBytes { throw Failure(reason: "chunk-size line too long") }
            return nil
        }
        guard newline <= maxLineBytes else { throw Failure(reason: "chunk-size line too long") }
        guard newline > 0, buffer.getInteger(at: buffer.readerIndex + newline - 1, as: UInt8.self) == 0x0D else {
            throw Failure(reason: "a chunk line ends in a bare LF")
        }
        let line = buffer.readSlice(length: newline - 1)!
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }

    /// `1*HEXDIG [ BWS ";" extensions ]`; the extensions are ignored but must not hold control characters.
    private static func chunkSize(_ line: ByteBuffer) throws(Failure) -> Int {
        try line.withUnsafeReadableBytes { bytes throws(Failure) -> Int in
            var size = 0
            var index = 0
            while index < bytes.count, let digit = HTTPToken.hexDigitValue(bytes[index]) {
                guard size < (1 << 40) else { throw Failure(reason: "chunk size too large") }
                size = size << 4 | Int(digit)
                index += 1
            }
            guard index > 0 else { throw Failure(reason: "chunk size is not a hexadecimal number") }
            while index < bytes.count && (bytes[index] == 0x20 || bytes[index] == 0x09) { index += 1 }
            guard index == bytes.count || bytes[index] == UInt8(ascii: ";") else { throw Failure(reason: "chunk size is followed by junk") }
            while index < bytes.count {
                guard bytes[index] == 0x09 || (bytes[index] >= 0x20 && bytes[index] != 0x7F) else {
                    throw Failure(reason: "a chunk extension holds a control character")
                }
                index += 1
            }
            return size
        }
    }
}
