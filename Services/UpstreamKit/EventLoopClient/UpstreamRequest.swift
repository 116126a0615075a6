import CityscapeKit
import NIOCore

/// The bytes of one upstream `GET`, encoded into one buffer (in one `ByteWriter` pass, its size counted first)
/// that the exchange handler writes with one call.
///
/// Every call is the same shape, a `GET` without a body, so NIO's `HTTPRequestEncoder` adds nothing here but its
/// cost: a header container built per call, two writes through the pipeline (head, then end) and a validating
/// handler, for the same bytes. What that validator checks is checked here: header names are tokens, no value
/// holds a control character but tab, and the path holds no byte that would end the request line early.
enum UpstreamRequest {
    /// `GET path HTTP/1.1` (`path` followed by `suffix`) with `Host` and `headers`, or an `invalidRequest` error
    /// naming what cannot be sent.
    static func encode(
        path: String,
        appending suffix: String = "",
        host: String,
        headers: [(name: String, value: String)],
        allocator: ByteBufferAllocator
    ) throws(UpstreamError) -> ByteBuffer {
        guard all(path, isPathByte), all(suffix, isPathByte) else {
            throw .invalidRequest("the path \((path + suffix).debugDescription) holds a space or a control character")
        }
        // "GET ", the target, " HTTP/1.1\r\nHost: ", the host, its "\r\n", and the empty line; each header adds
        // its name, ": ", its value and "\r\n". Exact, so the buffer is allocated once, at its size.
        var size = 4 + path.utf8.count + suffix.utf8.count + 17 + host.utf8.count + 2 + 2
        for header in headers {
            guard !header.name.utf8.isEmpty, all(header.name, HTTPToken.isTokenByte) else {
                throw .invalidRequest("\(header.name.debugDescription) is not a header name")
            }
            guard all(header.value, isValueByte) else {
                throw .invalidRequest("the value of the \(header.name) header holds a control character")
            }
            size += header.name.utf8.count + 2 + header.value.utf8.count + 2
        }
        var buffer = allocator.buffer(capacity: size)
        buffer.write(atMost: size) { request in
            request.write("GET ")
            request.write(string: path)
            request.write(string: suffix)
            request.write(" HTTP/1.1\r\nHost: ")
            request.write(string: host)
            request.write("\r\n")
            for header in headers {
                request.write(string: header.name)
                request.write(": ")
                request.write(string: header.value)
                request.write("\r\n")
            }
            request.write("\r\n")
        }
        return buffer
    }

    /// Whether every byte of `text` passes `test`; a native string's UTF-8 is checked as one buffer, which is several
    /// times faster than walking its `utf8` view.
    private static func all(_ text: String, _ test: (UInt8) -> Bool) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(test) } ?? text.utf8.allSatisfy(test)
    }

    /// Printable, non-ASCII or tab: what NIO's header validator lets through.
    private static func isValueByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (byte > 0x1F && byte != 0x7F)
    }

    /// Anything but a space or a control character, so the request line stays one line of three parts.
    private static func isPathByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte != 0x7F
    }
}
