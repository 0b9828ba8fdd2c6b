import YAML

/// The canonical text of a configuration node: JSON-like, mapping keys sorted, scalars tagged with their
/// resolved type (so `8080` and `"8080"` differ, but reordering keys or restyling quotes does not).
public enum Canonical {
    /// A double-quoted YAML/JSON string literal.
    public static func quoteJSON(_ s: String) -> String { quote(s) }

    static func encode(_ node: YAMLNode) -> String {
        var out = ""
        write(node, into: &out)
        return out
    }

    /// The canonical text of a stage configuration: like `encode`, after normalizing fields the schema
    /// declares as "a string or a list" to lists, so `inputs: a.txt` and `inputs: [a.txt]` are the same.
    static func encode(_ node: YAMLNode, schema: ConfigSchema) -> String {
        encode(normalize(node, schema: schema))
    }

    private static func normalize(_ node: YAMLNode, schema: ConfigSchema) -> YAMLNode {
        guard case .mapping(var pairs, let style) = node.content else { return node }
        for i in pairs.indices {
            guard let key = pairs[i].key.scalar, let field = schema.fields.first(where: { $0.name == key }) else {
                continue
            }
            switch field.type {
            case .stringOrList where pairs[i].value.scalar != nil:
                pairs[i].value = YAMLNode(.sequence([pairs[i].value], .flow))
            case .object(let nested):
                pairs[i].value = normalize(pairs[i].value, schema: nested)
            default:
                break
            }
        }
        var copy = node
        copy.content = .mapping(pairs, style)
        return copy
    }

    private static func write(_ node: YAMLNode, into out: inout String) {
        switch node.content {
        case .scalar(let s, _):
            switch node.kind {
            case .null: out += "null"
            case .bool: out += (s == "true" || s == "True" || s == "TRUE") ? "true" : "false"
            case .int: out += node.int.map(String.init) ?? quote(s)
            case .float: out += "f:" + quote(s)
            default: out += quote(s)
            }
        case .sequence(let items, _):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .mapping(let pairs, _):
            out += "{"
            let sorted = pairs.map { (encode($0.key), $0.value) }.sorted { $0.0 < $1.0 }
            for (i, (key, value)) in sorted.enumerated() {
                if i > 0 { out += "," }
                out += key + ":"
                write(value, into: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String) -> String {
        // Fast path: nothing to escape.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            return "\"" + s + "\""
        }
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if c.value < 0x20 {
                    out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count)
                        + String(c.value, radix: 16)
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}
