import Foundation
import NIOHTTP1

/// One request written as raw bytes on a fresh connection to 127.0.0.1, and the answer read until the server
/// closes or the receive timeout passes: for requests no HTTP client sends (no `Host`, an oversized head), and
/// to see whether the server closed the connection. Blocking, so it runs off the cooperative pool.
public struct RawAnswer: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let body: [UInt8]
    /// The server closed the connection (rather than the receive timeout ending the read).
    public let closedByServer: Bool

    public static func exchange(port: Int, _ request: [UInt8], timeoutSeconds: Int = 5) async throws -> RawAnswer {
        let (bytes, closed) = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try roundTrip(port: port, request, timeoutSeconds: timeoutSeconds) }) }
        }
        return try parse(bytes, closedByServer: closed)
    }

    private static func roundTrip(port: Int, _ request: [UInt8], timeoutSeconds: Int) throws -> ([UInt8], Bool) {
        let fd = try LoopbackSocket.connect(port: port, receiveTimeoutSeconds: timeoutSeconds)
        defer { Foundation.close(fd) }
        // The server may answer and close before it has read everything (431): a failed send still leaves the answer.
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (received, count == 0) }
            received += buffer[0..<count]
        }
    }

    private static func parse(_ bytes: [UInt8], closedByServer: Bool) throws -> RawAnswer {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { throw ServiceProcessError("no complete response head in: \(text.prefix(200))") }
        let lines = text[..<end.lowerBound].split(separator: "\r\n")
        let statusLine = lines.first?.split(separator: " ") ?? []
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw ServiceProcessError("no status line in: \(text.prefix(200))") }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return RawAnswer(status: status, headers: headers, body: Array(text[end.upperBound...].utf8), closedByServer: closedByServer)
    }
}
