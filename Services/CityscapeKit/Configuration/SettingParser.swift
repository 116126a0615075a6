/// How the text of one setting becomes a value, what a valid text looks like, and how a value is shown.
///
/// The `expected` phrase completes the error message `invalid value 'X' for --flag / VAR: expected …`,
/// so flags and environment variables are refused with the same words.
public struct SettingParser<Value: Sendable>: Sendable {
    /// What a valid value looks like, e.g. `an integer from 0 to 65535`.
    public let expected: String
    private let parseText: @Sendable (String) throws(SettingRejection) -> Value
    private let formatValue: @Sendable (Value) -> String?

    /// A parser that may refine the message (e.g. name the bad item of a list) by throwing a `SettingRejection`.
    /// - Parameter format: the value as a user would type it, for `--help` and the README; nil when it has no such form.
    public init(
        expected: String,
        format: @escaping @Sendable (Value) -> String? = { _ in nil },
        parse: @escaping @Sendable (String) throws(SettingRejection) -> Value
    ) {
        self.expected = expected
        self.parseText = parse
        self.formatValue = format
    }

    /// A parser whose only failure is "not what `expected` describes".
    public init(expected: String, format: @escaping @Sendable (Value) -> String? = { _ in nil }, parsing: @escaping @Sendable (String) -> Value?) {
        self.init(expected: expected, format: format) { raw throws(SettingRejection) in
            guard let value = parsing(raw) else { throw SettingRejection() }
            return value
        }
    }

    /// Parses a trimmed, non-empty text.
    public func parse(_ raw: String) throws(SettingRejection) -> Value { try parseText(raw) }

    /// The value as a user would type it, or nil.
    public func format(_ value: Value) -> String? { formatValue(value) }
}

/// Why a text was refused; nil fields fall back to the whole text and the parser's `expected`.
public struct SettingRejection: Error, Sendable {
    /// The offending part of the text, when it is not the whole of it (one item of a list).
    public var value: String?
    /// A more precise expectation than the parser's own.
    public var expected: String?

    /// Creates a rejection, optionally naming the bad part and what was expected of it.
    public init(value: String? = nil, expected: String? = nil) {
        self.value = value
        self.expected = expected
    }
}

// MARK: - The parsers every service uses

extension SettingParser where Value == Int {
    /// An integer within `range`.
    public static func integer(in range: ClosedRange<Int>) -> Self {
        Self(expected: "an integer from \(range.lowerBound) to \(range.upperBound)", format: { String($0) }) { raw in
            Int(raw).flatMap { range.contains($0) ? $0 : nil }
        }
    }
}

extension SettingParser where Value == Duration {
    /// A duration such as `500ms`, `2s`, `1.5s`, `1m` or `0`, within `range`.
    public static func duration(in range: ClosedRange<Duration>) -> Self {
        let bounds = "from \(DurationParser.format(range.lowerBound)) to \(DurationParser.format(range.upperBound))"
        return Self(expected: "a duration like 500ms, 2s or 1m, \(bounds)", format: { DurationParser.format($0) }) { raw in
            DurationParser.parse(raw).flatMap { range.contains($0) ? $0 : nil }
        }
    }
}

extension SettingParser where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of a fixed set of raw values (an enum such as the log level or the gateway mode), case-insensitive.
    public static var choice: Self {
        Self(expected: "one of " + Value.allCases.map(\.rawValue).joined(separator: ", "), format: { $0.rawValue }) { raw in
            Value(rawValue: raw.lowercased())
        }
    }
}

extension SettingParser where Value == String {
    /// Any text; for values checked later by what uses them (a bind address).
    public static var text: Self {
        Self(expected: "text", format: { $0 }) { $0 }
    }
}

extension SettingParser {
    /// The same parser for a setting whose default is "none" (nil), so a bad text is still refused.
    public var optional: SettingParser<Value?> {
        SettingParser<Value?>(expected: expected, format: { $0.flatMap(format) }) { raw throws(SettingRejection) in try parse(raw) }
    }
}
