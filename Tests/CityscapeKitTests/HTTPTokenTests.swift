import CityscapeKit
import Testing

@Suite("HTTP tokens")
struct HTTPTokenTests {
    @Test("a token's bytes are exactly RFC 9110's tchar")
    func tokenBytes() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(HTTPToken.isTokenByte(byte) == tchar.contains(byte), "byte \(byte)")
        }
    }
}
