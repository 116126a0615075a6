/// Why a postal table was refused at load; the service fails to start rather than answer from a damaged table.
struct PostalTableError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of the TSV (the header is line 1) where the problem was found.
    let line: Int
    /// What is wrong with that line.
    let message: String

    var description: String { "postal table line \(line): \(message)" }
}
