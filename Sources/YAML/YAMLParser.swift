internal import CYAML

/// Loads YAML text into `YAMLNode` trees with libyaml's event parser.
///
/// Anchors and aliases are resolved by copying; the total number of nodes that alias expansion may add is
/// bounded (`aliasExpansionLimit`) so that "billion laughs" input fails fast instead of exhausting memory.
public enum YAMLParser {
    /// Default upper bound on nodes added by alias expansion, per stream.
    public static let defaultAliasExpansionLimit = 100_000
    /// Maximum nesting depth of collections.
    public static let maximumDepth = 256

    /// Parses every document of a stream. An empty stream yields no documents.
    public static func parseDocuments(
        _ text: String,
        file: String = "<input>",
        aliasExpansionLimit: Int = defaultAliasExpansionLimit
    ) throws(Diagnostic) -> [YAMLNode] {
        let source = SourceText(file: file, text: text)
        let loader = Loader(text: text, source: source, aliasLimit: aliasExpansionLimit)
        return try loader.load()
    }

    /// Finds the scalar at a path of mapping keys in the first document (e.g. `["defaults", "cache"]`)
    /// by streaming events, without building the tree and stopping as soon as it is found. Returns nil when
    /// the path does not lead to a scalar.
    public static func scalar(at path: [String], in text: String, file: String = "<input>") throws(Diagnostic) -> String? {
        let loader = Loader(text: text, source: SourceText(file: file, text: text), aliasLimit: defaultAliasExpansionLimit)
        return try loader.scalar(at: path)
    }

    /// Parses a stream that must hold exactly one document (an empty stream gives a null scalar).
    public static func parse(
        _ text: String,
        file: String = "<input>",
        aliasExpansionLimit: Int = defaultAliasExpansionLimit
    ) throws(Diagnostic) -> YAMLNode {
        let docs = try parseDocuments(text, file: file, aliasExpansionLimit: aliasExpansionLimit)
        if docs.count > 1 {
            let loc = docs[1].location ?? SourceLocation(file: file, line: 1, column: 1)
            throw Diagnostic(at: loc, in: SourceText(file: file, text: text), "expected a single YAML document")
        }
        return docs.first ?? YAMLNode(.scalar("", .plain), location: SourceLocation(file: file, line: 1, column: 1))
    }
}

/// One libyaml parser over a private copy of the input; owns the parser and the buffer.
private final class Loader {
    private var parser = yaml_parser_t()
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private let source: SourceText
    private let aliasLimit: Int
    private var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    private var expanded = 0

    init(text: String, source: SourceText, aliasLimit: Int) {
        let bytes = Array(text.utf8)
        buffer = .allocate(capacity: max(bytes.count, 1))
        _ = buffer.initialize(from: bytes)
        self.source = source
        self.aliasLimit = aliasLimit
        yaml_parser_initialize(&parser)
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, buffer.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(&parser)
        buffer.deallocate()
    }

    /// A parsed event, copied out of libyaml so that the C event can be deleted at once.
    private enum Event {
        case streamStart, streamEnd, documentStart, documentEnd
        case alias(anchor: String, location: SourceLocation)
        case scalar(value: String, anchor: String?, tag: String?, style: ScalarStyle, location: SourceLocation)
        case sequenceStart(anchor: String?, tag: String?, style: CollectionStyle, location: SourceLocation)
        case sequenceEnd
        case mappingStart(anchor: String?, tag: String?, style: CollectionStyle, location: SourceLocation)
        case mappingEnd
    }

    private func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(file: source.file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let p else { return nil }
        return String(cString: p)
    }

    private func next() throws(Diagnostic) -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else {
            throw parserError()
        }
        defer { yaml_event_delete(&event) }
        let loc = location(event.start_mark)
        switch event.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_STREAM_END_EVENT: return .streamEnd
        case YAML_DOCUMENT_START_EVENT: return .documentStart
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_ALIAS_EVENT:
            return .alias(anchor: Loader.string(event.data.alias.anchor) ?? "", location: loc)
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let value = String(
                decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            let style: ScalarStyle =
                switch s.style {
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: .literal
                case YAML_FOLDED_SCALAR_STYLE: .folded
                default: .plain
                }
            var tag = Loader.string(s.tag)
            if tag == "!" { tag = nil }  // the non-specific tag only forces string resolution, as quoting does
            return .scalar(value: value, anchor: Loader.string(s.anchor), tag: tag, style: style, location: loc)
        case YAML_SEQUENCE_START_EVENT:
            let s = event.data.sequence_start
            return .sequenceStart(
                anchor: Loader.string(s.anchor), tag: Loader.string(s.tag),
                style: s.style == YAML_FLOW_SEQUENCE_STYLE ? .flow : .block, location: loc)
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            let s = event.data.mapping_start
            return .mappingStart(
                anchor: Loader.string(s.anchor), tag: Loader.string(s.tag),
                style: s.style == YAML_FLOW_MAPPING_STYLE ? .flow : .block, location: loc)
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        default:
            throw Diagnostic(at: loc, in: source, "unexpected YAML event")
        }
    }

    private func parserError() -> Diagnostic {
        let problem = Loader.cString(parser.problem) ?? "invalid YAML"
        var message = problem
        if let context = Loader.cString(parser.context) {
            message = "\(problem) \(context)"
        }
        var mark = parser.problem_mark
        if parser.error == YAML_READER_ERROR {
            // Reader errors carry a byte offset rather than a useful line mark.
            mark = yaml_mark_t(index: parser.problem_offset, line: 0, column: 0)
            let prefix = buffer.prefix(Int(parser.problem_offset))
            mark.line = prefix.reduce(0) { $1 == 10 ? $0 + 1 : $0 }
            mark.column = Int(parser.problem_offset) - ((prefix.lastIndex(of: 10)).map { $0 + 1 } ?? 0)
        }
        return Diagnostic(at: location(mark), in: source, message)
    }

    private static func cString(_ p: UnsafePointer<CChar>?) -> String? {
        p.map { String(cString: $0) }
    }

    func scalar(at path: [String]) throws(Diagnostic) -> String? {
        guard case .streamStart = try next(), case .documentStart = try next() else { return nil }
        var remaining = path[...]
        var event = try next()
        while let key = remaining.first {
            guard case .mappingStart = event else { return nil }
            // Scan the mapping's entries until `key`; running off its end means the path does not exist.
            while true {
                let k = try next()
                if case .mappingEnd = k { return nil }
                guard case .scalar(let name, _, _, _, _) = k else {
                    try skip(k)
                    try skip(try next())
                    continue
                }
                let value = try next()
                if name == key {
                    event = value
                    break
                }
                try skip(value)
            }
            remaining = remaining.dropFirst()
        }
        if case .scalar(let value, _, _, _, _) = event { return value }
        return nil
    }

    /// Consumes the rest of a node whose first event is `event`.
    private func skip(_ event: Event) throws(Diagnostic) {
        var depth: Int
        switch event {
        case .sequenceStart, .mappingStart: depth = 1
        default: return
        }
        while depth > 0 {
            switch try next() {
            case .sequenceStart, .mappingStart: depth += 1
            case .sequenceEnd, .mappingEnd: depth -= 1
            case .streamEnd: return
            default: break
            }
        }
    }

    func load() throws(Diagnostic) -> [YAMLNode] {
        var documents: [YAMLNode] = []
        guard case .streamStart = try next() else {
            throw Diagnostic(location: nil, message: "YAML stream does not start")
        }
        while true {
            switch try next() {
            case .streamEnd:
                return documents
            case .documentStart:
                anchors = [:]
                let (root, _) = try node(try next(), depth: 0)
                guard case .documentEnd = try next() else {
                    throw Diagnostic(location: root.location, message: "expected the end of the document")
                }
                documents.append(root)
            default:
                throw Diagnostic(location: nil, message: "unexpected event between documents")
            }
        }
    }

    /// Builds a node from `event`, returning it and its size in nodes (for the alias budget).
    private func node(_ event: Event, depth: Int) throws(Diagnostic) -> (YAMLNode, Int) {
        if depth > YAMLParser.maximumDepth {
            let loc: SourceLocation? =
                switch event {
                case .scalar(_, _, _, _, let l), .sequenceStart(_, _, _, let l), .mappingStart(_, _, _, let l),
                    .alias(_, let l):
                    l
                default: nil
                }
            throw Diagnostic(
                location: loc, message: "nesting deeper than \(YAMLParser.maximumDepth) levels",
                excerpt: loc.flatMap { source.line($0.line) })
        }
        switch event {
        case .alias(let anchor, let loc):
            guard let target = anchors[anchor] else {
                throw Diagnostic(at: loc, in: source, "unknown alias '\(anchor)'")
            }
            expanded += target.size
            if expanded > aliasLimit {
                throw Diagnostic(
                    at: loc, in: source,
                    "alias expansion exceeds the limit of \(aliasLimit) nodes (recursive aliases?)")
            }
            var copy = target.node
            copy.location = loc
            return (copy, target.size)
        case .scalar(let value, let anchor, let tag, let style, let loc):
            let n = YAMLNode(.scalar(value, style), tag: tag, location: loc)
            if let anchor { anchors[anchor] = (n, 1) }
            return (n, 1)
        case .sequenceStart(let anchor, let tag, let style, let loc):
            var items: [YAMLNode] = []
            var size = 1
            while true {
                let e = try next()
                if case .sequenceEnd = e { break }
                let (child, childSize) = try node(e, depth: depth + 1)
                items.append(child)
                size += childSize
            }
            let n = YAMLNode(.sequence(items, style), tag: tag, location: loc)
            if let anchor { anchors[anchor] = (n, size) }
            return (n, size)
        case .mappingStart(let anchor, let tag, let style, let loc):
            var pairs: [YAMLPair] = []
            var size = 1
            while true {
                let e = try next()
                if case .mappingEnd = e { break }
                let (key, keySize) = try node(e, depth: depth + 1)
                let (value, valueSize) = try node(try next(), depth: depth + 1)
                pairs.append(YAMLPair(key: key, value: value))
                size += keySize + valueSize
            }
            let n = YAMLNode(.mapping(pairs, style), tag: tag, location: loc)
            if let anchor { anchors[anchor] = (n, size) }
            return (n, size)
        default:
            throw Diagnostic(location: nil, message: "unexpected YAML structure")
        }
    }
}
