/// How a scalar was (or should be) written.
public enum ScalarStyle: Sendable, Hashable {
    /// Let the emitter choose: plain when that reads back as the same string, double-quoted otherwise.
    case any
    case plain
    case singleQuoted
    case doubleQuoted
    case literal
    case folded
}

/// How a sequence or mapping was (or should be) written.
public enum CollectionStyle: Sendable, Hashable {
    case block
    case flow
}

/// A key/value entry of a mapping, in document order.
public struct YAMLPair: Sendable, Equatable {
    /// The key node (usually a scalar).
    public var key: YAMLNode
    /// The value node.
    public var value: YAMLNode

    /// Creates a pair.
    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A YAML node: scalar, sequence or mapping, with its tag, style and source mark.
///
/// Equality compares content, tags and styles, never source marks, so a load → emit → load round trip is
/// the identity under `==`.
public struct YAMLNode: Sendable, Equatable {
    /// The node's content.
    public enum Content: Sendable, Equatable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode], CollectionStyle)
        case mapping([YAMLPair], CollectionStyle)
    }

    /// The content.
    public var content: Content
    /// The explicit tag as written (expanded, e.g. `tag:yaml.org,2002:str`), nil when implicit.
    public var tag: String?
    /// Where the node starts (nil for nodes built in code).
    public var location: SourceLocation?

    /// Creates a node.
    public init(_ content: Content, tag: String? = nil, location: SourceLocation? = nil) {
        self.content = content
        self.tag = tag
        self.location = location
    }

    /// A scalar built in code; the emitter picks a style that reads back as the same string.
    public static func string(_ s: String, style: ScalarStyle = .any) -> YAMLNode {
        YAMLNode(.scalar(s, style))
    }

    /// A block mapping built in code.
    public static func mapping(_ pairs: [(String, YAMLNode)]) -> YAMLNode {
        YAMLNode(.mapping(pairs.map { YAMLPair(key: .string($0.0), value: $0.1) }, .block))
    }

    /// A block sequence built in code.
    public static func sequence(_ items: [YAMLNode]) -> YAMLNode {
        YAMLNode(.sequence(items, .block))
    }

    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        lhs.tag == rhs.tag && lhs.content == rhs.content
    }

    // MARK: - Typed access

    /// The resolved type of a node under the YAML 1.2 core schema.
    public enum Kind: String, Sendable {
        case null, bool, int, float, string, sequence, mapping
    }

    /// The node's resolved kind (explicit tags win over plain-scalar resolution).
    public var kind: Kind {
        switch content {
        case .sequence: return .sequence
        case .mapping: return .mapping
        case .scalar(let s, let style):
            if let tag {
                switch tag {
                case "tag:yaml.org,2002:null": return .null
                case "tag:yaml.org,2002:bool": return .bool
                case "tag:yaml.org,2002:int": return .int
                case "tag:yaml.org,2002:float": return .float
                default: return .string
                }
            }
            guard style == .plain || style == .any else { return .string }
            return ScalarResolver.resolve(s)
        }
    }

    /// The scalar's text, for any scalar kind; nil for collections.
    public var scalar: String? {
        if case .scalar(let s, _) = content { return s }
        return nil
    }

    /// The string value when the node resolves to a string.
    public var string: String? { kind == .string ? scalar : nil }

    /// The integer value when the node resolves to an int.
    public var int: Int? {
        guard kind == .int, let s = scalar else { return nil }
        return ScalarResolver.parseInt(s)
    }

    /// The boolean value when the node resolves to a bool.
    public var bool: Bool? {
        guard kind == .bool, let s = scalar else { return nil }
        return s == "true" || s == "True" || s == "TRUE"
    }

    /// True for a null scalar.
    public var isNull: Bool { kind == .null }

    /// Sequence items, or nil.
    public var items: [YAMLNode]? {
        if case .sequence(let items, _) = content { return items }
        return nil
    }

    /// Mapping entries, or nil.
    public var pairs: [YAMLPair]? {
        if case .mapping(let pairs, _) = content { return pairs }
        return nil
    }

    /// The value for a scalar key in a mapping (first match), or nil.
    public subscript(key: String) -> YAMLNode? {
        get {
            guard case .mapping(let pairs, _) = content else { return nil }
            return pairs.first { $0.key.scalar == key }?.value
        }
        set {
            guard case .mapping(var pairs, let style) = content else { return }
            if let i = pairs.firstIndex(where: { $0.key.scalar == key }) {
                if let newValue { pairs[i].value = newValue } else { pairs.remove(at: i) }
            } else if let newValue {
                pairs.append(YAMLPair(key: .string(key), value: newValue))
            }
            content = .mapping(pairs, style)
        }
    }

    /// A short noun phrase for error messages ("a mapping", "a string", ...).
    public var kindDescription: String {
        switch kind {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .float: "a number"
        case .string: "a string"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}
