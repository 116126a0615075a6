/// The backends one request has been sent to, in order: what a retry must skip.
///
/// Nearly every request tries one backend, so the first is held inline and only a retry grows the list:
/// an array would cost an allocation per request.
struct TriedBackends: Sendable, Equatable, ExpressibleByArrayLiteral {
    private var first: BackendAddress?
    private var others: [BackendAddress] = []

    init(arrayLiteral backends: BackendAddress...) {
        for backend in backends { append(backend) }
    }

    var count: Int { first == nil ? 0 : 1 + others.count }

    var isEmpty: Bool { first == nil }

    @inline(__always)
    func contains(_ backend: BackendAddress) -> Bool {
        guard let first else { return false }
        return first == backend || (!others.isEmpty && others.contains(backend))
    }

    mutating func append(_ backend: BackendAddress) {
        if first == nil { first = backend } else { others.append(backend) }
    }
}
