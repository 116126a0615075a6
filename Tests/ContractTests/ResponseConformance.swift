import CityscapeTestSupport
import Foundation
import NIOHTTP1

/// Checks one response against the document: status documented for the operation (or the shared response
/// named), content type documented for that status, body valid against its schema, required headers present
/// and valid.
struct ResponseConformance {
    let document: OpenAPIDocument

    func problems(method: String, template: String, _ response: LiveResponse) -> [String] {
        let where_ = "\(method) \(template) → \(response.status)"
        guard let documented = document.response(method: method, path: template, status: response.status) else {
            return ["\(where_): status not documented"]
        }
        return problems(documented, headers: response.headers, body: response.body).map { "\(where_): \($0)" }
    }

    /// Checks an answer against one of the document's shared responses (`components/responses/NAME`): for
    /// answers no operation lists (405, 404, the connection guard's). The caller checks the status.
    func problems(shared name: String, headers: HTTPHeaders, body: [UInt8]) -> [String] {
        guard let documented = document.sharedResponse(name) else { return ["components/responses/\(name) is missing"] }
        return problems(documented, headers: headers, body: body).map { "\(name): \($0)" }
    }

    /// Content type documented, body valid against its schema, required headers present and valid.
    func problems(_ documented: [String: Any], headers: HTTPHeaders, body: [UInt8]) -> [String] {
        var found = headerProblems(documented, headers)
        guard let content = documented["content"] as? [String: [String: Any]] else {
            if !body.isEmpty { found.append("a body where the document describes none") }
            return found
        }
        let contentType = headers.first(name: "content-type") ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        guard let media = content[mediaType] else {
            return found + ["content type '\(contentType)' not among \(content.keys.sorted())"]
        }
        guard mediaType == "application/json", let schema = media["schema"] as? [String: Any] else { return found }
        guard let value = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            return found + ["body is not JSON: \(String(decoding: body.prefix(120), as: UTF8.self))"]
        }
        return found + SchemaCheck(document: document).problems(value, schema)
    }

    private func headerProblems(_ documented: [String: Any], _ headers: HTTPHeaders) -> [String] {
        var found: [String] = []
        for (name, raw) in documented["headers"] as? [String: [String: Any]] ?? [:] {
            let header = document.resolve(raw)
            guard let value = headers.first(name: name) else {
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
