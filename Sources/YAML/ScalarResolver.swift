/// Plain-scalar resolution under the YAML 1.2 core schema, plus the YAML 1.1 booleans that Kubernetes'
/// YAML libraries still honour (so that the emitter quotes them).
enum ScalarResolver {
    static func resolve(_ s: String) -> YAMLNode.Kind {
        // Fast path: most scalars (names, paths, commands) start with a character no other type can.
        guard let first = s.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "~"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"), UInt8(ascii: "T"),
            UInt8(ascii: "f"), UInt8(ascii: "F"):
            break
        default:
            return .string
        }
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "false", "False", "FALSE": return .bool
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
            return .float
        default: break
        }
        if parseInt(s) != nil { return .int }
        if isFloat(s) { return .float }
        return .string
    }

    /// True when some common YAML reader (1.1 or 1.2) would read the plain scalar as a non-string.
    static func needsQuoting(_ s: String) -> Bool {
        if resolve(s) != .string { return true }
        switch s.lowercased() {
        case "y", "yes", "n", "no", "on", "off": return true
        default: break
        }
        // YAML 1.1 sexagesimal and underscore numbers, octal with a leading zero.
        if let f = s.first, f.isNumber || f == "-" || f == "+" || f == "." {
            let body = s.drop { $0 == "-" || $0 == "+" }
            if !body.isEmpty && body.allSatisfy({ $0.isNumber || $0 == "_" || $0 == ":" || $0 == "." }) {
                return true
            }
        }
        return false
    }

    static func parseInt(_ s: String) -> Int? {
        var body = Substring(s)
        var negative = false
        if body.first == "-" || body.first == "+" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        guard !body.isEmpty else { return nil }
        if body.hasPrefix("0x") {
            guard let v = Int(body.dropFirst(2), radix: 16) else { return nil }
            return negative ? -v : v
        }
        if body.hasPrefix("0o") {
            guard let v = Int(body.dropFirst(2), radix: 8) else { return nil }
            return negative ? -v : v
        }
        guard body.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(body) else { return nil }
        return negative ? -v : v
    }

    static func isFloat(_ s: String) -> Bool {
        // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
        var chars = Array(s.utf8)[...]
        func digits() -> Int {
            var n = 0
            while let c = chars.first, c >= 48, c <= 57 {
                chars = chars.dropFirst()
                n += 1
            }
            return n
        }
        if let c = chars.first, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { chars = chars.dropFirst() }
        var mantissa = digits()
        if chars.first == UInt8(ascii: ".") {
            chars = chars.dropFirst()
            mantissa += digits()
        }
        guard mantissa > 0 else { return false }
        if let c = chars.first, c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            chars = chars.dropFirst()
            if let c = chars.first, c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { chars = chars.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return chars.isEmpty
    }
}
