import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A response read completely, for assertions.
public struct LiveResponse: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object (throws when it is not one).
    public func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw ServiceProcessError("body is not a JSON object: \(text)")
        }
        return object
    }
}

/// Real HTTP requests against live processes on 127.0.0.1.
public enum LiveHTTP {
    /// Sends one request and reads the whole response (bodies here are small).
    public static func request(
        _ url: String,
        method: HTTPMethod = .GET,
        headers: [(String, String)] = [],
        body: String? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> LiveResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return LiveResponse(status: Int(response.status.code), headers: response.headers, body: Array(buffer: bytes))
    }
}

extension LiveHTTP {
    /// The value of one unlabelled series (`name value`) in the Prometheus text at `metricsURL`, or nil when absent.
    public static func metric(_ name: String, at metricsURL: String) async throws -> Double? {
        let text = try await request(metricsURL).text
        let line = text.split(separator: "\n").first { $0.hasPrefix("\(name) ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }
}
