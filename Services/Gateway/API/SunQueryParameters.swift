import CityscapeKit
import Hummingbird

/// The raw `date` and `tz` values of a request's query, read exactly as Hummingbird's `URI.queryParameters`
/// reads them, straight from the target's bytes.
///
/// `queryParameters` splits the query into arrays of parsers and pairs, and its split throws and catches an
/// error for the last part of every query; the gateway needs two names, so it reads them in one pass without
/// building either. What Hummingbird does, this does too (`SunQueryParametersTests` holds the two equal):
/// the query runs from the first `?` to the first `#`; its parts are separated by `&`; a part's name runs to its
/// first `=` (a part without one is a name with an empty value); names are compared as written, never
/// percent-decoded; the first part with a name wins; a value is percent-decoded unless an escape in it is
/// broken, then it is kept as written; `+` stays `+`.
struct SunQueryParameters: Sendable, Equatable {
    var date: String?
    var tz: String?

    init(date: String? = nil, tz: String? = nil) {
        self.date = date
        self.tz = tz
    }

    /// Reads the parameters of the request's target.
    init(_ request: Request) {
        let uri = request.uri
        var target = uri.string
        guard target.utf8.first == UInt8(ascii: "/") else {
            // A target that is not origin-form (a scheme and host before the path) has its query where Hummingbird's
            // parser puts it; such targets are rare, so its copy of the query is taken as is.
            var query = uri.query ?? ""
            self = query.withUTF8 { Self(query: $0) }
            return
        }
        self = target.withUTF8 { bytes in
            guard let mark = bytes.firstIndex(of: UInt8(ascii: "?")) else { return Self() }
            return Self(query: UnsafeBufferPointer(rebasing: bytes[(mark + 1)...]))
        }
    }

    /// Reads the parameters of a query: the bytes after its `?`, a fragment included or not.
    init(query: UnsafeBufferPointer<UInt8>) {
        let end = query.firstIndex(of: UInt8(ascii: "#")) ?? query.endIndex
        var date: Range<Int>?
        var tz: Range<Int>?
        var start = query.startIndex
        while start < end, date == nil || tz == nil {
            let partEnd = query[start..<end].firstIndex(of: UInt8(ascii: "&")) ?? end
            let equals = query[start..<partEnd].firstIndex(of: UInt8(ascii: "="))
            let name = UnsafeBufferPointer(rebasing: query[start..<(equals ?? partEnd)])
            let value = (equals.map { $0 + 1 } ?? partEnd)..<partEnd
            if date == nil, name.elementsEqual("date".utf8) {
                date = value
            } else if tz == nil, name.elementsEqual("tz".utf8) {
                tz = value
            }
            start = partEnd + 1
        }
        self.date = date.map { Self.decoded(UnsafeBufferPointer(rebasing: query[$0])) }
        self.tz = tz.map { Self.decoded(UnsafeBufferPointer(rebasing: query[$0])) }
    }

    /// The percent-decoded value, or the value as written when an escape in it is not `%` and two hex digits.
    /// Bytes that do not make UTF-8 are repaired, as `String(decoding:as:)` repairs them for Hummingbird.
    static func decoded(_ value: UnsafeBufferPointer<UInt8>) -> String {
        guard value.contains(UInt8(ascii: "%")) else { return String(decoding: value, as: UTF8.self) }
        var broken = false
        let decoded = String(unsafeUninitializedCapacity: value.count) { output in
            var written = 0
            var index = value.startIndex
            while index < value.endIndex {
                let byte = value[index]
                if byte != UInt8(ascii: "%") {
                    output[written] = byte
                    index += 1
                } else if index + 2 < value.endIndex, let high = HTTPToken.hexDigitValue(value[index + 1]),
                    let low = HTTPToken.hexDigitValue(value[index + 2])
                {
                    output[written] = high << 4 | low
                    index += 3
                } else {
                    broken = true
                    return 0
                }
                written += 1
            }
            return written
        }
        return broken ? String(decoding: value, as: UTF8.self) : decoded
    }
}
