import Foundation

/// Checks a decoded JSON value against the JSON Schema subset our OpenAPI documents use.
///
/// Supported: `$ref`, `type` (string or list), `const`, `enum`, `pattern`, `minLength`, `maxLength`,
/// `minimum`, `maximum`, `required`, `properties`, `additionalProperties` (bool or schema), `oneOf`.
/// An unsupported keyword is reported rather than ignored, so the checker never passes silently.
struct SchemaCheck {
    let document: OpenAPIDocument

    static let known: Set<String> = [
        "$ref", "type", "const", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "required", "properties",
        "additionalProperties", "oneOf", "description",
    ]

    /// Problems found, each with a JSON-pointer-like location; empty when `value` conforms.
    func problems(_ value: Any, _ rawSchema: [String: Any], at location: String = "$") -> [String] {
        let schema = document.resolve(rawSchema)
        if let unknown = schema.keys.first(where: { !Self.known.contains($0) }) { return ["\(location): unsupported keyword \(unknown)"] }
        if let alternatives = schema["oneOf"] as? [[String: Any]] {
            let matching = alternatives.filter { problems(value, $0, at: location).isEmpty }.count
            if matching != 1 { return ["\(location): matches \(matching) of the oneOf alternatives, not exactly 1"] }
        }
        if let types = (schema["type"] as? [String]) ?? (schema["type"] as? String).map({ [$0] }), !types.contains(where: { Self.isType(value, $0) })
        {
            return ["\(location): \(Self.describe(value)) is not of type \(types)"]
        }
        var found: [String] = []
        if let constant = schema["const"], !Self.equal(value, constant) { found.append("\(location): \(Self.describe(value)) is not \(constant)") }
        if let options = schema["enum"] as? [Any], !options.contains(where: { Self.equal(value, $0) }) {
            found.append("\(location): \(Self.describe(value)) is not one of \(options)")
        }
        if let text = value as? String { found += stringProblems(text, schema, at: location) }
        if !Self.isBoolean(value), let number = value as? NSNumber {
            if let minimum = (schema["minimum"] as? NSNumber)?.doubleValue, number.doubleValue < minimum {
                found.append("\(location): \(number) < \(minimum)")
            }
            if let maximum = (schema["maximum"] as? NSNumber)?.doubleValue, number.doubleValue > maximum {
                found.append("\(location): \(number) > \(maximum)")
            }
        }
        if let object = value as? [String: Any] { found += objectProblems(object, schema, at: location) }
        return found
    }

    private func stringProblems(_ text: String, _ schema: [String: Any], at location: String) -> [String] {
        var found: [String] = []
        if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
            found.append("\(location): '\(text)' does not match \(pattern)")
        }
        if let minimum = schema["minLength"] as? Int, text.count < minimum { found.append("\(location): shorter than \(minimum)") }
        if let maximum = schema["maxLength"] as? Int, text.count > maximum { found.append("\(location): longer than \(maximum)") }
        return found
    }

    private func objectProblems(_ object: [String: Any], _ schema: [String: Any], at location: String) -> [String] {
        var found: [String] = []
        let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
        for key in schema["required"] as? [String] ?? [] where object[key] == nil { found.append("\(location): missing \(key)") }
        for (key, value) in object {
            if let property = properties[key] {
                found += problems(value, property, at: "\(location).\(key)")
            } else if let additional = schema["additionalProperties"] as? [String: Any] {
                found += problems(value, additional, at: "\(location).\(key)")
            } else if (schema["additionalProperties"] as? Bool) == false {
                found.append("\(location): unexpected property \(key)")
            }
        }
        return found
    }

    static func isType(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "null": return value is NSNull
        case "string": return value is String
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "boolean": return isBoolean(value)
        case "integer":
            guard !isBoolean(value), let number = value as? NSNumber else { return false }
            return number.doubleValue.rounded() == number.doubleValue
        case "number": return !isBoolean(value) && value is NSNumber
        default: return false
        }
    }

    /// Exact dynamic type, because on Linux a JSON `true` may also cast to `NSNumber` (and `1` to `Bool`).
    static func isBoolean(_ value: Any) -> Bool { type(of: value) == Bool.self }

    static func equal(_ a: Any, _ b: Any) -> Bool { (a as? NSObject)?.isEqual(b) ?? false }

    static func describe(_ value: Any) -> String {
        let text = "\(value)"
        return text.count > 60 ? String(text.prefix(60)) + "…" : text
    }
}
