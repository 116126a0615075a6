import CityscapeKit

/// A request's id as the proxy carries it: the client's `X-Request-ID` as `RequestID` accepts it, or, when
/// the client sent none, 128 bits drawn for the request. The drawn bits become the 32 hex digits of
/// `RequestID.generate` only where the id leaves the proxy (the forwarded heads, a log line), so the common
/// request, which brings no id, costs no `String`.
enum ProxyRequestID: Equatable, CustomStringConvertible, ExpressibleByStringLiteral {
    case given(String)
    case drawn(UInt64, UInt64)

    /// The client's candidate by `RequestID`'s rules (a fresh id if it breaks them), or fresh bits when there is none.
    init(candidate: String?, generator: inout RequestIDGenerator) {
        if let candidate {
            self = .given(RequestID.accept(candidate, generator: &generator))
        } else {
            self = .drawn(generator.next(), generator.next())
        }
    }

    init(stringLiteral value: String) {
        self = .given(value)
    }

    /// How many bytes the id takes on the wire.
    var byteCount: Int {
        switch self {
        case .given(let text): text.utf8.count
        case .drawn: 32
        }
    }

    var description: String {
        switch self {
        case .given(let text):
            return text
        case .drawn(let high, let low):
            return RequestID.text(high, low)
        }
    }
}

extension ByteWriter {
    mutating func write(requestID: ProxyRequestID) {
        switch requestID {
        case .given(let text):
            write(string: text)
        case .drawn(let high, let low):
            write(hex: high)
            write(hex: low)
        }
    }
}
