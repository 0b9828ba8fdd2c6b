public import YAML

/// The declared shape of a mapping in the pipeline file: its fields, their types and which are required.
/// Validation reports unknown keys (with a "did you mean" suggestion), missing fields and wrong types, each at
/// the file:line:col of the offending node.
public struct ConfigSchema: Sendable {
    /// The type a field's value must have.
    public indirect enum FieldType: Sendable {
        case string
        case int
        case bool
        case stringList
        /// A string or a list of strings (normalized to a list by `StageConfig.strings`).
        case stringOrList
        /// A mapping of string keys to string values.
        case stringMap
        /// A nested mapping with its own schema.
        case object(ConfigSchema)
        /// Anything; the stage validates it itself.
        case any

        var noun: String {
            switch self {
            case .string: "a string"
            case .int: "an integer"
            case .bool: "a boolean"
            case .stringList: "a list of strings"
            case .stringOrList: "a string or a list of strings"
            case .stringMap: "a mapping of strings"
            case .object: "a mapping"
            case .any: "a value"
            }
        }
    }

    /// One field of a schema.
    public struct Field: Sendable {
        /// The key.
        public var name: String
        /// The value's type.
        public var type: FieldType
        /// Whether the key must be present.
        public var required: Bool

        /// Declares a field.
        public init(_ name: String, _ type: FieldType, required: Bool = false) {
            self.name = name
            self.type = type
            self.required = required
        }
    }

    /// The fields, in documentation order.
    public var fields: [Field]

    /// Creates a schema.
    public init(_ fields: [Field]) {
        self.fields = fields
    }

    /// Validates `node` (a mapping) against the schema; `context` names the place in messages
    /// (e.g. "stage 'build' (command)").
    public func validate(_ node: YAMLNode, context: String, source: SourceText?) throws(Diagnostic) {
        guard let pairs = node.pairs else {
            throw Diagnostic(at: node.loc, in: source, "\(context) must be a mapping, found \(node.kindDescription)")
        }
        var seen = Set<String>()
        for pair in pairs {
            guard let key = pair.key.scalar else {
                throw Diagnostic(at: pair.key.loc, in: source, "\(context): keys must be strings")
            }
            guard let field = fields.first(where: { $0.name == key }) else {
                var message = "unknown key '\(key)' in \(context)"
                if let suggestion = Suggest.closest(to: key, among: fields.map(\.name)) {
                    message += " (did you mean '\(suggestion)'?)"
                }
                throw Diagnostic(at: pair.key.loc, in: source, message)
            }
            guard seen.insert(key).inserted else {
                throw Diagnostic(at: pair.key.loc, in: source, "duplicate key '\(key)' in \(context)")
            }
            try Self.check(pair.value, is: field.type, field: key, context: context, source: source)
        }
        for field in fields where field.required && !seen.contains(field.name) {
            throw Diagnostic(at: node.loc, in: source, "missing required key '\(field.name)' in \(context)")
        }
    }

    private static func check(
        _ value: YAMLNode,
        is type: FieldType,
        field: String,
        context: String,
        source: SourceText?
    ) throws(Diagnostic) {
        func wrong() -> Diagnostic {
            Diagnostic(
                at: value.loc, in: source,
                "'\(field)' in \(context) must be \(type.noun), found \(value.kindDescription)")
        }
        switch type {
        case .any:
            return
        case .string:
            // Numbers and booleans written plain are accepted as their text (e.g. a version `1.2`).
            guard value.scalar != nil, !value.isNull else { throw wrong() }
        case .int:
            guard value.int != nil else { throw wrong() }
        case .bool:
            guard value.bool != nil else { throw wrong() }
        case .stringList:
            guard let items = value.items else { throw wrong() }
            for item in items where item.scalar == nil || item.isNull {
                throw Diagnostic(
                    at: item.loc, in: source,
                    "items of '\(field)' in \(context) must be strings, found \(item.kindDescription)")
            }
        case .stringOrList:
            if value.scalar != nil && !value.isNull { return }
            try check(value, is: .stringList, field: field, context: context, source: source)
        case .stringMap:
            guard let pairs = value.pairs else { throw wrong() }
            for pair in pairs where pair.value.scalar == nil || pair.value.isNull {
                throw Diagnostic(
                    at: pair.value.loc, in: source,
                    "values of '\(field)' in \(context) must be strings, found \(pair.value.kindDescription)")
            }
        case .object(let schema):
            try schema.validate(value, context: "'\(field)' of \(context)", source: source)
        }
    }
}

extension YAMLNode {
    /// The node's location, or a placeholder for nodes built in code.
    var loc: SourceLocation {
        location ?? SourceLocation(file: "<generated>", line: 0, column: 0)
    }
}

/// "Did you mean" suggestions by edit distance.
public enum Suggest {
    /// The candidate closest to `word` within a third of its length in edits (at least one).
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = max(1, word.count / 3)
        var best: (String, Int)?
        for c in candidates.sorted() {
            let d = distance(word.lowercased(), c.lowercased())
            if d <= limit, d < word.count, d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        return best?.0
    }

    /// Levenshtein distance.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
