/// Parses the human duration syntax used by every duration flag: a decimal number and a unit.
///
/// Units: `ms`, `s`, `m`, `h`; a bare `0` is allowed because "no latency" has no natural unit.
/// A number without a unit is rejected rather than guessed (is `500` seconds or milliseconds?).
public enum DurationParser {
    /// Returns nil for anything that is not `<non-negative number><unit>` or `0`.
    public static func parse(_ text: String) -> Duration? {
        let text = text.lowercased()
        if text == "0" { return .zero }
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let value = Double(number), value.isFinite
            else { return nil }
            return .milliseconds(Int64((value * unit.seconds * 1000).rounded()))
        }
        return nil
    }

    /// Formats a duration the way `parse` reads it back (`500ms`, `2s`, `1.5s`).
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "0" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        return "\(Double(milliseconds) / 1000)s"
    }
}
