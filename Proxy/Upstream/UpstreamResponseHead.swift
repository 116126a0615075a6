import NIOCore
import NIOHTTP1

/// A backend's response head and what it says about the body and the connection (RFC 9112 §6.3, §9.3).
///
/// A response whose framing is ambiguous (Transfer-Encoding with Content-Length, differing or malformed
/// lengths, a transfer coding other than chunked) is refused as malformed: forwarding it would let the
/// backend smuggle a second response to the client.
struct UpstreamResponseHead {
    let wire: WireHead
    let status: HTTPResponseStatus
    /// Whether the backend lets the connection carry another request after this response.
    let keepAlive: Bool
    let framing: BodyDecoder.Framing
    let hopByHop: HopByHopHeaders

    /// - Parameter toHEAD: whether the request was a HEAD, whose response has no body whatever it declares.
    init(_ wire: WireHead, toHEAD: Bool) throws(BackendFailure) {
        // Read in a function of its own, so nothing of `self` exists when it throws: a throwing initializer
        // that sets fields before its last throw builds the head aside and copies it out.
        let meaning = try Self.meaning(of: wire, toHEAD: toHEAD)
        status = meaning.status
        keepAlive = meaning.keepAlive
        framing = meaning.framing
        hopByHop = meaning.hopByHop
        // Last, so the head moves in rather than being copied (a retain of each of its buffers).
        self.wire = wire
    }

    private static func meaning(
        of wire: borrowing WireHead,
        toHEAD: Bool
    ) throws(BackendFailure) -> (status: HTTPResponseStatus, keepAlive: Bool, framing: BodyDecoder.Framing, hopByHop: HopByHopHeaders) {
        let code = wire.bytes.withUnsafeReadableBytes { head in
            wire.startLine.1.reduce(0) { $0 * 10 + Int(head[$1] - UInt8(ascii: "0")) }
        }
        // NIO names the registered codes itself; only an unregistered one needs its reason phrase read.
        var status = HTTPResponseStatus(statusCode: code)
        if case .custom = status { status = HTTPResponseStatus(statusCode: code, reasonPhrase: wire.string(wire.startLine.2)) }
        let http10 = wire.isHTTP10(wire.startLine.0)
        let options = wire.connectionOptions()
        let framing: BodyDecoder.Framing
        let hasEncoding = wire.first(.transferEncoding) != nil
        let lengthField = wire.first(.contentLength)
        if toHEAD || code < 200 || code == 204 || code == 304 {
            framing = .none
        } else if hasEncoding {
            guard lengthField == nil else { throw .other("malformed response: Transfer-Encoding with Content-Length") }
            var codings = 0
            var lastIsChunked = false
            wire.forEachListElement(.transferEncoding) { coding in
                codings += 1
                lastIsChunked = wire.matches(coding, "chunked")
            }
            guard codings == 1 && lastIsChunked else { throw .other("malformed response: unsupported Transfer-Encoding") }
            framing = .chunked
        } else if lengthField != nil {
            var length: Int?
            var consistent = true
            wire.forEachListElement(.contentLength) { element in
                let value = wire.decimal(element)
                if value == nil || (length != nil && length != value) { consistent = false }
                length = value
            }
            guard consistent, let length else { throw .other("malformed response: invalid Content-Length") }
            framing = .length(length)
        } else {
            framing = .untilClose
        }
        let keepAlive = !options.close && (!http10 || options.keepAlive) && framing != .untilClose
        return (status, keepAlive, framing, HopByHopHeaders(named: options.named))
    }
}
