import YAML

/// The canonical text of a configuration node: JSON-like, mapping keys sorted, scalars tagged with their
/// resolved type (so `8080` and `"8080"` differ, but reordering keys or restyling quotes does not).
enum Canonical {
    static func encode(_ node: YAMLNode) -> String {
        var out = ""
        write(node, into: &out)
        return out
    }

    private static func write(_ node: YAMLNode, into out: inout String) {
        switch node.content {
        case .scalar(let s, _):
            switch node.kind {
            case .null: out += "null"
            case .bool: out += node.bool == true ? "true" : "false"
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
