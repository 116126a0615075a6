import CityscapeTestSupport
import Foundation
import NIOHTTP1

/// Checks one live response against the document: status documented for the operation, content type
/// documented for that status, body valid against its schema, required headers present and valid.
struct ResponseConformance {
    let document: OpenAPIDocument

    func problems(method: String, template: String, _ response: LiveResponse) -> [String] {
        let where_ = "\(method) \(template) → \(response.status)"
        guard let documented = document.response(method: method, path: template, status: response.status) else {
            return ["\(where_): status not documented"]
        }
        var found = headerProblems(documented, response).map { "\(where_): \($0)" }
        guard let content = documented["content"] as? [String: [String: Any]] else {
            if !response.body.isEmpty { found.append("\(where_): a body where the document describes none") }
            return found
        }
        let contentType = response.headers.first(name: "content-type") ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard let media = content[mediaType] else {
            return found + ["\(where_): content type '\(contentType)' not among \(content.keys.sorted())"]
        }
        guard mediaType == "application/json", let schema = media["schema"] as? [String: Any] else { return found }
        guard let value = try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed]) else {
            return found + ["\(where_): body is not JSON: \(response.text.prefix(120))"]
        }
        return found + SchemaCheck(document: document).problems(value, schema).map { "\(where_): \($0)" }
    }

    private func headerProblems(_ documented: [String: Any], _ response: LiveResponse) -> [String] {
        var found: [String] = []
        for (name, raw) in documented["headers"] as? [String: [String: Any]] ?? [:] {
            let header = document.resolve(raw)
            guard let value = response.headers.first(name: name) else {
                if header["required"] as? Bool == true { found.append("missing header \(name)") }
                continue
            }
            if let schema = header["schema"] as? [String: Any] {
                found += SchemaCheck(document: document).problems(value, schema, at: name)
            }
        }
        return found
    }
}
