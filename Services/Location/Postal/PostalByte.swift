/// Byte classes shared by query validation, candidate rules and the table scan.
///
/// Plain comparisons rather than `ClosedRange.contains` or `UInt8(ascii:)`: the scan calls these tens of millions of
/// times at start, and in debug builds, where the generic versions are not inlined, they dominate loading the table.
enum PostalByte {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let hyphen: UInt8 = 0x2D
    /// The same byte as `hyphen`, named for its role in coordinates.
    static let minus: UInt8 = 0x2D
    static let point: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let upperA: UInt8 = 0x41

    /// `0`-`9`.
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- zero < 10
    }

    /// `A`-`Z`.
    static func isUpperLetter(_ byte: UInt8) -> Bool {
        byte &- upperA < 26
    }

    /// `A`-`Z`, `0`-`9`, space and hyphen: every character the 1,080,401 codes of the data use, nothing else.
    static func isAllowedInPostalCode(_ byte: UInt8) -> Bool {
        isUpperLetter(byte) || isDigit(byte) || byte == space || byte == hyphen
    }
}
