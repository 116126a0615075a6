import HTTPTypes
public import NIOCore
public import NIOHTTP1

extension ServiceError {
    /// The error as NIO HTTP/1 response parts, for handlers that answer below Hummingbird (the connection
    /// guard, the proxy's forwarding pipeline).
    /// - Parameter closing: adds `Connection: close`, for a connection that closes after this answer.
    public func http1Response(closing: Bool) -> (head: HTTPResponseHead, body: ByteBuffer) {
        let body = jsonBody()
        var headers = HTTPHeaders()
        headers.reserveCapacity(self.headers.count + 3)
        for field in self.headers { headers.add(name: field.name.rawName, value: field.value) }
        headers.replaceOrAdd(name: "content-type", value: "application/json; charset=utf-8")
        headers.replaceOrAdd(name: "content-length", value: String(body.count))
        if closing { headers.replaceOrAdd(name: "connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: Int(self.status.code), reasonPhrase: self.status.reasonPhrase)
        return (HTTPResponseHead(version: .http1_1, status: status, headers: headers), ByteBuffer(bytes: body))
    }
}
