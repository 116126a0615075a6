import NIOCore
import NIOHTTP1

/// NIO's HTTP/1 response decoder, for a connection whose requests are written as bytes (``UpstreamRequest``).
///
/// `HTTPResponseDecoder` learns each request's method by watching the request heads written through it, which
/// only works behind NIO's request encoder. This wrapper keeps the decoder off the outbound path, and the
/// exchange handler tells it of each request with ``requestSent(to:)``: every request here is a `GET`, so a
/// response to it has a body unless its status says otherwise, which is what the decoder decides from there.
struct ResponseDecoding: ByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart

    private let decoder: HTTPResponseDecoder
    private static let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")

    init(_ decoder: HTTPResponseDecoder) {
        self.decoder = decoder
    }

    /// Tells `decoder` that a `GET` went out, so it expects one more response.
    static func requestSent(to decoder: HTTPResponseDecoder) {
        decoder.write(data: .head(get))
    }

    func decoderAdded(context: ChannelHandlerContext) {
        decoder.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        decoder.decoderRemoved(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try decoder.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}
