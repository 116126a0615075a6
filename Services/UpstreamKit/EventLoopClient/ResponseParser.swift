import CityscapeKit
import NIOCore

/// Reads the HTTP/1.1 responses of one upstream connection straight from its bytes, one event at a time.
///
/// The exchange needs three things from a response: its status, whether the connection stays open, and its body.
/// NIO's decoder gives far more (every header as a pair of strings, a head value, a pipeline hop per part), which is
/// work per call that nobody reads. This parser keeps only what framing needs and checks the rest in place.
///
/// It frames a response to a `GET` the way RFC 9112 §6.3 says: no body after 1xx, 204 and 304; a chunked body when
/// `Transfer-Encoding` is `chunked`; `Content-Length` bytes when that is given; otherwise everything until the
/// upstream closes. Interim 1xx responses are skipped. What it cannot frame with certainty is an error, and the
/// connection is closed: another transfer coding, both `Transfer-Encoding` and `Content-Length` (RFC 9112 §6.1 calls
/// that a likely smuggling attempt), lengths that disagree, a `101` (nothing here asks to switch protocols), a line
/// ended by a bare LF, a folded header, a control character, a head or chunk line beyond its limit.
struct ResponseParser {
    enum Event: Equatable {
        case head(status: Int, keepAlive: Bool)
        case body(ByteBuffer)
        case end
    }

    /// How the body of a response is delimited.
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        case untilClose
    }

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        /// The body is complete; `.end` comes next.
        case ending
        /// An error was reported; the connection is closing and its bytes mean nothing any more.
        case failed
    }

    /// A head longer than this is refused: the upstreams' heads are a few hundred bytes.
    static let maximumHeadBytes = 16 * 1024
    /// The longest chunk-size line or trailer line accepted.
    static let maximumLineBytes = 4 * 1024

    private var state = State.head
    /// Bytes received and not consumed yet.
    private var pending: ByteBuffer?

    /// Adds bytes read from the connection.
    mutating func feed(_ buffer: ByteBuffer) {
        if case .failed = state { return }
        if var pending, pending.readableBytes > 0 {
            var buffer = buffer
            pending.writeBuffer(&buffer)
            self.pending = pending
        } else {
            pending = buffer
        }
    }

    /// The next complete event in the bytes fed so far, or nil when more bytes are needed.
    mutating func next() throws(UpstreamError) -> Event? {
        do {
            return try step()
        } catch {
            state = .failed
            pending = nil
            throw error
        }
    }

    /// The upstream closed the connection: `.end` when that ends a body read until close, nil between responses,
    /// and an error in the middle of one.
    mutating func endOfInput() throws(UpstreamError) -> Event? {
        let remaining = pending?.readableBytes ?? 0
        pending = nil
        switch state {
        case .untilClose:
            state = .failed
            return .end
        case .head where remaining == 0, .failed:
            return nil
        case .head:
            state = .failed
            throw .connectionReset("the upstream closed the connection in the middle of a response head")
        default:
            state = .failed
            throw .connectionReset("the upstream closed the connection before the response body was complete")
        }
    }

    private mutating func step() throws(UpstreamError) -> Event? {
        while true {
            switch state {
            case .failed:
                return nil
            case .ending:
                state = .head
                return .end
            case .head:
                guard let event = try readHead() else { return nil }
                // An interim response leaves the parser reading heads; it is not an event of the exchange.
                if case .head(let status, _) = event, status < 200 { continue }
                return event
            case .fixed(let remaining):
                guard let part = readBody(upTo: remaining) else { return nil }
                let left = remaining - part.readableBytes
                state = left == 0 ? .ending : .fixed(remaining: left)
                return .body(part)
            case .untilClose:
                return readBody(upTo: Int.max).map { .body($0) }
            case .chunkSize:
                guard let line = try readLine(limit: Self.maximumLineBytes, what: "chunk size") else { return nil }
                let size = try Self.chunkSize(line)
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard let part = readBody(upTo: remaining) else { return nil }
                let left = remaining - part.readableBytes
                state = left == 0 ? .chunkDataEnd : .chunkData(remaining: left)
                return .body(part)
            case .chunkDataEnd:
                guard var pending, pending.readableBytes >= 2 else { return nil }
                guard pending.readInteger(as: UInt16.self) == Self.crlf else {
                    throw .connectionReset("the upstream's chunk data is not followed by CRLF")
                }
                self.pending = pending
                state = .chunkSize
            case .trailers:
                guard let line = try readLine(limit: Self.maximumLineBytes, what: "trailer") else { return nil }
                // Trailer fields carry nothing the exchange uses; the empty line ends the response.
                if line.readableBytes == 0 { state = .ending }
            }
        }
    }

    // MARK: Reading

    private static let crlf = UInt16(0x0D0A)

    /// Up to `limit` readable bytes as a slice of the input (no copy), nil when none are buffered.
    private mutating func readBody(upTo limit: Int) -> ByteBuffer? {
        guard var pending, pending.readableBytes > 0 else { return nil }
        let part = pending.readSlice(length: min(limit, pending.readableBytes))
        self.pending = pending.readableBytes > 0 ? pending : nil
        return part
    }

    /// One line without its CRLF, nil while it is incomplete.
    private mutating func readLine(limit: Int, what: String) throws(UpstreamError) -> ByteBuffer? {
        guard var pending else { return nil }
        let end = pending.withUnsafeReadableBytes { bytes in bytes.firstIndex(of: UInt8(ascii: "\n")) }
        guard let end else {
            guard pending.readableBytes <= limit else { throw .connectionReset("the upstream's \(what) line exceeds \(limit) bytes") }
            return nil
        }
        guard end > 0, pending.getInteger(at: pending.readerIndex + end - 1, as: UInt8.self) == UInt8(ascii: "\r") else {
            throw .connectionReset("the upstream's \(what) line ends with a bare LF")
        }
        guard end <= limit else { throw .connectionReset("the upstream's \(what) line exceeds \(limit) bytes") }
        let line = pending.readSlice(length: end - 1)!
        pending.moveReaderIndex(forwardBy: 2)
        self.pending = pending.readableBytes > 0 ? pending : nil
        return line
    }

    private mutating func readHead() throws(UpstreamError) -> Event? {
        guard var pending else { return nil }
        let scan = pending.withUnsafeReadableBytes { ResponseHead.scan($0) }
        switch scan {
        case .incomplete:
            guard pending.readableBytes <= Self.maximumHeadBytes else {
                throw .connectionReset("the upstream's response head exceeds \(Self.maximumHeadBytes) bytes")
            }
            return nil
        case .invalid(let reason):
            throw .connectionReset("the upstream's response is malformed: \(reason)")
        case .complete(let head):
            guard head.length <= Self.maximumHeadBytes else {
                throw .connectionReset("the upstream's response head exceeds \(Self.maximumHeadBytes) bytes")
            }
            if case .length(let length) = head.framing, length > UpstreamLimits.maximumBodyBytes {
                throw .bodyTooLarge("the response body of \(length) bytes exceeds \(UpstreamLimits.maximumBodyBytes) bytes")
            }
            pending.moveReaderIndex(forwardBy: head.length)
            self.pending = pending.readableBytes > 0 ? pending : nil
            switch head.framing {
            case .none: state = head.status < 200 ? .head : .ending
            case .length(let length): state = length == 0 ? .ending : .fixed(remaining: length)
            case .chunked: state = .chunkSize
            case .untilClose: state = .untilClose
            }
            return .head(status: head.status, keepAlive: head.keepAlive)
        }
    }

    /// `1*HEXDIG [ chunk-ext ]`; the extensions mean nothing here and are skipped.
    static func chunkSize(_ line: ByteBuffer) throws(UpstreamError) -> Int {
        var size = 0
        var digits = 0
        for byte in line.readableBytesView {
            guard let value = HTTPToken.hexDigitValue(byte) else {
                guard byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") else {
                    throw .connectionReset("the upstream's chunk size is not hexadecimal")
                }
                guard digits > 0 else { throw .connectionReset("the upstream's chunk size is missing") }
                return size
            }
            size = size * 16 + Int(value)
            digits += 1
            // A chunk beyond the body limit is refused at once, which also keeps the size from overflowing.
            guard size <= UpstreamLimits.maximumBodyBytes else {
                throw .bodyTooLarge("a chunk of the response exceeds \(UpstreamLimits.maximumBodyBytes) bytes")
            }
        }
        guard digits > 0 else { throw .connectionReset("the upstream's chunk size is missing") }
        return size
    }
}
