import HTTPTypes
import Hummingbird
import NIOCore

/// A router response with its body gathered into one buffer, ready to be written in one go.
///
/// Every Cityscape route answers with a small body in one buffer; a body written piece by piece (a
/// closure body) is gathered the same way, which suits bodies of that size and no streaming ones.
struct CollectedResponse: Sendable {
    var head: HTTPResponse
    var body: ByteBuffer?

    init(head: HTTPResponse, body: ByteBuffer?) {
        self.head = head
        self.body = body
    }

    init(_ response: Response) async throws {
        let collector = BodyCollector()
        try await response.body.write(collector)
        head = response.head
        body = collector.buffer
        // A body of unknown length was written piece by piece; its length is known now.
        // (`contains`, not the subscript: the subscript joins every value of the field into a new string.)
        if !head.headerFields.contains(.contentLength), !head.headerFields.contains(.transferEncoding) {
            head.headerFields[.contentLength] = String(body?.readableBytes ?? 0)
        }
    }
}

/// Gathers what a `ResponseBody` writes.
private final class BodyCollector: ResponseBodyWriter {
    var buffer: ByteBuffer?

    func write(_ part: ByteBuffer) async throws {
        if buffer == nil {
            buffer = part
        } else {
            var part = part
            buffer!.writeBuffer(&part)
        }
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
