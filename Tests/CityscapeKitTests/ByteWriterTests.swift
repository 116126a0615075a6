import CityscapeKit
import NIOCore
import Testing

@Suite("ByteWriter: many pieces as one ByteBuffer write")
struct ByteWriterTests {
    @Test("bytes, raw bytes, static and dynamic strings, decimals and hex land in order, and only they")
    func piecesInOrder() {
        var buffer = ByteBuffer(string: "<")
        let dynamic = String(repeating: "é", count: 3)
        let raw: [UInt8] = [0x00, 0xFF]
        buffer.write(atMost: 64) { writer in
            writer.write(UInt8(ascii: "a"))
            writer.write("static ")
            writer.write(string: dynamic)
            raw.withUnsafeBufferPointer { writer.write($0) }
            writer.write(decimal: 1_234_567)
            writer.write(hex: 0x0123_4567_89AB_CDEF)
            #expect(writer.count == 1 + 7 + 6 + 2 + 7 + 16)
        }
        buffer.writeString(">")
        #expect(Array(buffer.readableBytesView) == Array("<astatic ééé".utf8) + raw + Array("12345670123456789abcdef>".utf8))
    }

    @Test("the room asked for can be used to the last byte, and writing nothing adds nothing")
    func exactSpace() {
        var buffer = ByteBuffer()
        buffer.write(atMost: 5) { $0.write("12345") }
        buffer.write(atMost: 8) { _ in }
        buffer.write(atMost: ByteWriter.maxDecimalBytes) { $0.write(decimal: Int.max) }
        #expect(String(buffer: buffer) == "12345" + String(Int.max))
    }

    @Test("request ids are 32 lower-case hex digits, high word first")
    func requestIDText() {
        #expect(RequestID.text(0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210) == "0123456789abcdeffedcba9876543210")
        #expect(RequestID.text(0, 1) == "00000000000000000000000000000001")
    }
}
