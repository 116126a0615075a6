import Foundation

/// The parts of an OpenAPI 3.1 document the contract tests need: its operations and their responses.
///
/// Only what our documents use is read (paths, operations, responses, `$ref` into components);
/// schemathesis validates the whole document and JSON Schema semantics in `make test`.
struct OpenAPIDocument: @unchecked Sendable {
    // @unchecked: `root` is an immutable tree of Foundation JSON values (dictionaries, arrays, strings,
    // numbers) created once in `init` and only read afterwards.
    let root: [String: Any]

    static let methods = ["get", "head", "post", "put", "patch", "delete", "options", "trace"]

    init(bytes: [UInt8]) throws {
        guard let root = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw ContractError("the OpenAPI document is not a JSON object")
        }
        self.root = root
    }

    /// Every `METHOD /path/{param}` the document describes.
    var operations: Set<String> {
        let paths = root["paths"] as? [String: [String: Any]] ?? [:]
        var result: Set<String> = []
        for (path, item) in paths {
            for method in Self.methods where item[method] != nil { result.insert("\(method.uppercased()) \(path)") }
        }
        return result
    }

    /// Every `METHOD /path status` the document describes.
    var documentedStatuses: Set<String> {
        var result: Set<String> = []
        for operation in operations {
            let parts = operation.split(separator: " ")
            for status in responses(method: String(parts[0]), path: String(parts[1])).keys {
                result.insert("\(operation) \(status)")
            }
        }
        return result
    }

    func responses(method: String, path: String) -> [String: [String: Any]] {
        let paths = root["paths"] as? [String: [String: Any]] ?? [:]
        let operation = paths[path]?[method.lowercased()] as? [String: Any]
        return operation?["responses"] as? [String: [String: Any]] ?? [:]
    }

    /// The response object for `status`, with a top-level `$ref` followed.
    func response(method: String, path: String, status: Int) -> [String: Any]? {
        guard let response = responses(method: method, path: path)[String(status)] else { return nil }
        return resolve(response)
    }

    /// `components/responses/NAME`, with a top-level `$ref` followed: the answers no operation lists.
    func sharedResponse(_ name: String) -> [String: Any]? {
        let responses = (root["components"] as? [String: Any])?["responses"] as? [String: [String: Any]]
        return responses?[name].map(resolve)
    }

    /// The methods the document lists for `path`, as an `Allow` header names them (GET and HEAD first).
    func allowedMethods(path: String) -> [String] {
        let item = (root["paths"] as? [String: [String: Any]])?[path] ?? [:]
        return Self.methods.filter { item[$0] != nil }.map { $0.uppercased() }
    }

    /// A schema under `components/schemas`, or a `components/parameters` entry's schema, `$ref` followed.
    func parameterSchema(_ name: String) -> [String: Any]? {
        let parameters = (root["components"] as? [String: Any])?["parameters"] as? [String: [String: Any]]
        return (parameters?[name]?["schema"] as? [String: Any]).map(resolve)
    }

    /// Follows `{"$ref": "#/components/..."}` (local references only, which is all our documents use).
    func resolve(_ node: [String: Any]) -> [String: Any] {
        guard let reference = node["$ref"] as? String, reference.hasPrefix("#/") else { return node }
        var current: Any = root
        for key in reference.dropFirst(2).split(separator: "/") {
            current = (current as? [String: Any])?[String(key)] ?? [:]
        }
        return resolve(current as? [String: Any] ?? [:])
    }

    /// `/api/location/:postal_code/:country` (Hummingbird) → `/api/location/{postal_code}/{country}` (OpenAPI).
    static func template(fromRouterPath path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }.joined(separator: "/")
    }
}

struct ContractError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
