import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Reads a response body chunk by chunk and returns only its length (never holds the body).
func streamedLength(_ url: String) async throws -> Int {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
    var total = 0
    for try await buffer in response.body { total += buffer.readableBytes }
    return total
}

/// Uploads `bytes` generated on the fly in 64 KiB chunks (chunked encoding) and returns the response text.
func uploadStreaming(_ url: String, bytes: Int) async throws -> String {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    let chunk = ByteBuffer(repeating: UInt8(ascii: "y"), count: 64 * 1024)
    request.body = .stream(RepeatedChunks(chunk: chunk, count: bytes / chunk.readableBytes), length: .unknown)
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    return String(buffer: try await response.body.collect(upTo: 1024))
}

/// Resident set size of this process, from /proc.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The same buffer `count` times, as an async sequence: an upload body that is never held in memory.
struct RepeatedChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunk: ByteBuffer
    let count: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunk: ByteBuffer
        var left: Int
        mutating func next() async -> ByteBuffer? {
            guard left > 0 else { return nil }
            left -= 1
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunk: chunk, left: count) }
}
