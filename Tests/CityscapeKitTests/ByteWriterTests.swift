import CityscapeKit
import NIOCore
import Testing

@Suite("ByteWriter: many pieces as one ByteBuffer write")
struct ByteWriterTests {
    @Test("bytes, raw bytes, static and dynamic strings and substrings land in order, and only they")
    func piecesInOrder() {
        var buffer = ByteBuffer(string: "<")
        let dynamic = String(repeating: "é", count: 3)
        let substring = "xx-middle-xx".dropFirst(3).dropLast(3)
        let raw: [UInt8] = [0x00, 0xFF]
        buffer.write(atMost: 64) { writer in
            writer.append(UInt8(ascii: "a"))
            writer.append("static ")
            writer.append(dynamic)
            writer.append(substring)
            raw.withUnsafeBufferPointer { writer.append($0) }
            #expect(writer.count == 1 + 7 + 6 + 6 + 2)
        }
        buffer.writeString(">")
        #expect(Array(buffer.readableBytesView) == Array("<astatic ééémiddle".utf8) + raw + Array(">".utf8))
    }

    @Test("the space asked for can be used to the last byte, and writing nothing adds nothing")
    func exactSpace() {
        var buffer = ByteBuffer()
        buffer.write(atMost: 5) { $0.append("12345") }
        buffer.write(atMost: 8) { _ in }
        #expect(String(buffer: buffer) == "12345")
    }
}
