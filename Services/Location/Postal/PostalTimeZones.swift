/// The zone-name table `timezones.tsv` that the postal table's `timezone_id` column indexes.
///
/// Format (written by `make postal-timezones`): the header `timezone_id<TAB>timezone`, then one line per zone whose
/// id is its 0-based position, so an id is an array index. Every name must look like an IANA id (letters, digits,
/// `_`, `+`, `-`, `/`-separated parts), and names are unique, so a damaged file stops the service at start.
enum PostalTimeZones {
    static let header = "timezone_id\ttimezone"

    /// The names in id order; throws with the 1-based line of the first problem.
    static func parse(_ text: String) throws(PostalTableError) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard lines.first == Substring(header) else {
            throw PostalTableError(line: 1, message: "expected the header 'timezone_id<TAB>timezone'")
        }
        var names: [String] = []
        var seen: Set<Substring> = []
        for (offset, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 2, fields[0] == Substring(String(offset)) else {
                throw PostalTableError(line: offset + 2, message: "expected '\(offset)<TAB>zone name'")
            }
            guard isZoneName(fields[1]), seen.insert(fields[1]).inserted else {
                throw PostalTableError(line: offset + 2, message: "'\(fields[1])' is not a new IANA zone name")
            }
            names.append(String(fields[1]))
        }
        return names
    }

    /// `Area/Location[/Sub]` or `UTC`-like: parts of letters, digits, `_`, `+`, `-`, starting with a letter.
    static func isZoneName(_ name: Substring) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 64 else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { part in
            guard let first = part.utf8.first, PostalByte.isUpperLetter(first) || (first &- 0x61) < 26 else { return false }
            return part.utf8.allSatisfy { byte in
                PostalByte.isUpperLetter(byte) || (byte &- 0x61) < 26 || PostalByte.isDigit(byte) || byte == 0x5F || byte == 0x2B
                    || byte == PostalByte.hyphen
            }
        }
    }
}
