/// One way a user's spelling of a postal code maps to the form the country's data stores.
///
/// A rule is a pair of patterns so the per-country table reads like the formats it describes, e.g.
/// `("#######", "###-####")` for JP `1000001` → `100-0001`, or `("@??#@@", "@??")` for GB `B101AA` → `B10`.
///
/// - `shape` is matched against the *compact* input (the normalised code with spaces and hyphens removed), so every
///   separator spelling of a code reaches the same rule: `#` is a digit, `@` a letter, `?` a digit or letter, and any
///   other character must appear literally. Characters matched by `#`, `@` or `?` are *captured*, in order.
/// - `template` builds the candidate: `#`, `@` or `?` copies the next captured character, `_` skips one, and any
///   other character is written literally. Captured characters left over are dropped, which is how a rule truncates.
struct PostalCodeRule: Sendable {
    private let shape: [UInt8]
    private let template: [UInt8]

    /// Builds a rule; a template that uses more characters than the shape captures is a bug in the static table.
    init(_ shape: String, _ template: String) {
        self.shape = Array(shape.utf8)
        self.template = Array(template.utf8)
        let captured = self.shape.count(where: Self.isPlaceholder)
        let consumed = self.template.count(where: { Self.isPlaceholder($0) || $0 == UInt8(ascii: "_") })
        precondition(consumed <= captured, "postal rule template '\(template)' consumes more than shape '\(shape)' captures")
    }

    /// The candidate this rule makes from a compact code, or nil when the code does not have the rule's shape.
    func candidate(fromCompact compact: [UInt8]) -> String? {
        guard compact.count == shape.count else { return nil }
        var captured: [UInt8] = []
        captured.reserveCapacity(shape.count)
        for index in shape.indices {
            let byte = compact[index]
            let pattern = shape[index]
            guard Self.byte(byte, matches: pattern) else { return nil }
            if Self.isPlaceholder(pattern) {
                captured.append(byte)
            }
        }
        var output: [UInt8] = []
        output.reserveCapacity(template.count)
        var next = captured.startIndex
        for pattern in template {
            if Self.isPlaceholder(pattern) {
                output.append(captured[next])
                next += 1
            } else if pattern == UInt8(ascii: "_") {
                next += 1
            } else {
                output.append(pattern)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func isPlaceholder(_ pattern: UInt8) -> Bool {
        pattern == UInt8(ascii: "#") || pattern == UInt8(ascii: "@") || pattern == UInt8(ascii: "?")
    }

    private static func byte(_ byte: UInt8, matches pattern: UInt8) -> Bool {
        switch pattern {
        case UInt8(ascii: "#"): PostalByte.isDigit(byte)
        case UInt8(ascii: "@"): PostalByte.isUpperLetter(byte)
        case UInt8(ascii: "?"): PostalByte.isDigit(byte) || PostalByte.isUpperLetter(byte)
        default: byte == pattern
        }
    }
}
