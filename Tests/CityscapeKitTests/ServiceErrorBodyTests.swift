import CityscapeKit
import Foundation
import HTTPTypes
import Testing

@Suite("ServiceError's JSON body")
struct ServiceErrorBodyTests {
    static let errors: [ServiceError] = [
        ServiceError(.serviceUnavailable, code: "overloaded", message: "the gateway is at capacity; retry later"),
        ServiceError(.badRequest, code: "invalid_date", message: "bad", extraFields: ["results": "", "status": "INVALID_REQUEST"]),
        ServiceError(.notFound, code: "not_found", message: #"no route for /a/"b"\c; see the README"#),
        ServiceError(.badRequest, code: "bad_request", message: "line\none\ttab\r\u{01} Zürich 日本 🌅"),
        ServiceError(.badRequest, code: "x", message: "y", extraFields: ["error": "replaced", "a": "first"]),
    ]

    @Test("the same bytes JSONSerialization writes with sorted keys and unescaped slashes, and a newline", arguments: errors)
    func sameBytesAsJSONSerialization(error: ServiceError) throws {
        var object: [String: Any] = error.extraFields
        object["error"] = ["code": error.code, "message": error.message]
        let reference = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        #expect(error.jsonBody() == [UInt8](reference) + [UInt8(ascii: "\n")])
    }

    @Test("backspace and form feed are escaped as \\u sequences, which read back the same")
    func otherControlCharacters() throws {
        let error = ServiceError(.badRequest, code: "c", message: "a\u{08}b\u{0C}c")
        let body = error.jsonBody()
        #expect(String(decoding: body, as: UTF8.self) == #"{"error":{"code":"c","message":"a\u0008b\u000cc"}}"# + "\n")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: [String: String]])
        #expect(parsed["error"]?["message"] == "a\u{08}b\u{0C}c")
    }
}
