import Foundation

/// A backend with its weight: `HOST:PORT` or `HOST:PORT weight=N`, as given to `--backend`,
/// `CITYSCAPE_BACKENDS` and on a line of the backends file.
struct WeightedBackend: Sendable, Hashable, CustomStringConvertible {
    static let weights = 1...100

    var address: BackendAddress
    var weight: Int

    init(_ address: BackendAddress, weight: Int = 1) {
        self.address = address
        self.weight = weight
    }

    /// Parses `HOST:PORT [weight=N]`; the error says what is wrong with the text.
    init(parsing text: String) throws(WeightedBackendError) {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let first = words.first, let address = BackendAddress(parsing: first) else {
            throw WeightedBackendError(text: text, problem: "expected HOST:PORT, optionally followed by weight=N")
        }
        var weight = 1
        for word in words.dropFirst() {
            guard word.lowercased().hasPrefix("weight=") else {
                throw WeightedBackendError(text: text, problem: "unknown parameter '\(word)'; only weight=N follows HOST:PORT")
            }
            guard let value = Int(word.dropFirst("weight=".count)), Self.weights.contains(value) else {
                throw WeightedBackendError(
                    text: text,
                    problem: "bad weight '\(word.dropFirst("weight=".count))': expected an integer from 1 to 100"
                )
            }
            weight = value
        }
        self.init(address, weight: weight)
    }

    /// `HOST:PORT`, with ` weight=N` when it is not 1.
    var description: String { weight == 1 ? address.description : "\(address) weight=\(weight)" }

    /// Reads a backends file: one `HOST:PORT [weight=N]` per line; blank lines and `#` comments are skipped.
    static func list(fromFile path: String) throws -> [WeightedBackend] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var result: [WeightedBackend] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = content.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                result.append(try WeightedBackend(parsing: trimmed))
            } catch {
                throw BackendsFileError(message: "line \(number + 1): \(error.problem) (got '\(trimmed)')")
            }
        }
        return result
    }
}

/// A backend entry that is not `HOST:PORT [weight=N]`.
struct WeightedBackendError: Error, Sendable, Equatable, CustomStringConvertible {
    let text: String
    let problem: String
    var description: String { "'\(text)': \(problem)" }
}
