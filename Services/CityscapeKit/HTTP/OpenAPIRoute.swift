public import Hummingbird

/// `GET /openapi.json`: the service's OpenAPI document, exactly as kept in the repository.
///
/// The document is embedded in the binary at build time (SwiftPM `.embedInCode`), so an installed
/// binary needs no resource bundle and can never serve a document of another version. Like the other
/// operational routes it sits outside the simulated latency.
public struct OpenAPIRoute: Sendable {
    public static let path: RouterPath = "/openapi.json"
    let body: ByteBuffer

    public init(document: [UInt8]) {
        body = ByteBuffer(bytes: document)
    }

    public func addRoutes(to router: some RouterMethods<CityscapeRequestContext>) {
        let body = self.body
        router.get(Self.path) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: body))
        }
    }
}
