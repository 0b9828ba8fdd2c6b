import Crypto
import Foundation
public import YAML

/// Reads and validates `contrast.pipeline.yaml`. Every error is a `Diagnostic` at file:line:col.
public struct PipelineLoader: Sendable {
    /// The stage types available.
    public var registry: StageRegistry

    /// Keys allowed in a stage besides its one type key.
    static let stageKeys = ["needs", "description"]
    static let topSchema = ConfigSchema([
        .init("version", .int, required: true),
        .init("name", .string, required: true),
        .init(
            "defaults",
            .object(ConfigSchema([.init("cache", .string), .init("workspace", .string), .init("platform", .string)]))),
        .init("stages", .any, required: true),
    ])

    /// Creates a loader for the given stage types.
    public init(registry: StageRegistry) {
        self.registry = registry
    }

    /// Loads the pipeline file at `path` (as given, for messages).
    public func load(path: String) throws(Diagnostic) -> Pipeline {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Diagnostic(location: nil, message: "cannot read pipeline file '\(path)'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Diagnostic(location: nil, message: "pipeline file '\(path)' is not UTF-8")
        }
        let absolute = Paths.resolve(path, against: Paths.currentDirectory)
        var pipeline = try load(text: text, file: path, directory: Paths.directory(of: absolute))
        pipeline.sourceDigest = SHA256.hash(data).hex
        return pipeline
    }

    /// Loads a pipeline from text; `directory` is the absolute base for relative paths.
    public func load(text: String, file: String, directory: String) throws(Diagnostic) -> Pipeline {
        let source = SourceText(file: file, text: text)
        let root = try YAMLParser.parse(text, file: file)
        let top = "the pipeline file"
        if root.isNull {
            throw Diagnostic(at: root.loc, in: source, "the pipeline file is empty")
        }
        try Self.topSchema.validate(root, context: top, source: source)
        // Schema validation guarantees these are present and typed.
        let versionNode = root["version"]!
        guard versionNode.int == Pipeline.schemaVersion else {
            throw Diagnostic(
                at: versionNode.loc, in: source,
                "unsupported pipeline schema version \(versionNode.scalar ?? "?") (this contrast-pipe reads version \(Pipeline.schemaVersion))")
        }
        var defaults = PipelineDefaults()
        if let d = root["defaults"] {
            if let v = d["cache"]?.scalar { defaults.cache = v }
            if let v = d["workspace"]?.scalar { defaults.workspace = v }
            defaults.platform = d["platform"]?.scalar
        }
        let name = root["name"]!.scalar ?? ""
        let stagesNode = root["stages"]!
        guard let stagePairs = stagesNode.pairs else {
            throw Diagnostic(
                at: stagesNode.loc, in: source, "'stages' must be a mapping of stage names, found \(stagesNode.kindDescription)")
        }
        if stagePairs.isEmpty {
            throw Diagnostic(at: stagesNode.loc, in: source, "the pipeline defines no stages")
        }
        var stages: [PipelineStage] = []
        var defined: [String: SourceLocation] = [:]
        var needLocations: [String: [String: SourceLocation]] = [:]
        for pair in stagePairs {
            guard let stageName = pair.key.string else {
                throw Diagnostic(at: pair.key.loc, in: source, "stage names must be strings")
            }
            if let first = defined[stageName] {
                throw Diagnostic(
                    at: pair.key.loc, in: source,
                    "duplicate stage name '\(stageName)' (first defined at \(first.line):\(first.column))")
            }
            guard Self.isValidName(stageName) else {
                throw Diagnostic(
                    at: pair.key.loc, in: source,
                    "invalid stage name '\(stageName)' (use letters, digits, '-', '_' and '.')")
            }
            defined[stageName] = pair.key.loc
            let (stage, needs) = try parseStage(name: stageName, node: pair.value, source: source, defaults: defaults)
            stages.append(stage)
            needLocations[stageName] = needs
        }
        // Dangling needs / references.
        for stage in stages {
            for dep in stage.dependencies where defined[dep] == nil {
                let loc = needLocations[stage.name]?[dep] ?? stage.location ?? root.loc
                var message = "stage '\(stage.name)' needs '\(dep)', which is not defined"
                if let s = Suggest.closest(to: dep, among: Array(defined.keys)) {
                    message += " (did you mean '\(s)'?)"
                }
                throw Diagnostic(at: loc, in: source, message)
            }
        }
        let pipeline = Pipeline(name: name, file: file, directory: directory, defaults: defaults, stages: stages)
        do {
            _ = try StageGraph(pipeline)
        } catch let cycle {
            let first = cycle.path[0]
            let second = cycle.path.count > 1 ? cycle.path[1] : first
            let loc = needLocations[first]?[second] ?? defined[first] ?? root.loc
            throw Diagnostic(at: loc, in: source, "dependency cycle: \(cycle.path.joined(separator: " -> "))")
        }
        return pipeline
    }

    static func isValidName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            (c.value < 128 && (c.properties.isAlphabetic || ("0"..."9").contains(c))) || c == "-" || c == "_"
                || c == "."
        }
    }

    private func parseStage(
        name: String,
        node: YAMLNode,
        source: SourceText,
        defaults: PipelineDefaults
    ) throws(Diagnostic) -> (PipelineStage, [String: SourceLocation]) {
        guard let pairs = node.pairs else {
            throw Diagnostic(at: node.loc, in: source, "stage '\(name)' must be a mapping, found \(node.kindDescription)")
        }
        var typeKey: YAMLPair?
        var needs: [String] = []
        var needLocations: [String: SourceLocation] = [:]
        var description: String?
        var seen = Set<String>()
        for pair in pairs {
            guard let key = pair.key.scalar else {
                throw Diagnostic(at: pair.key.loc, in: source, "stage '\(name)': keys must be strings")
            }
            guard seen.insert(key).inserted else {
                throw Diagnostic(at: pair.key.loc, in: source, "duplicate key '\(key)' in stage '\(name)'")
            }
            if registry.types[key] != nil {
                if let existing = typeKey?.key.scalar {
                    throw Diagnostic(
                        at: pair.key.loc, in: source,
                        "stage '\(name)' has more than one type ('\(existing)' and '\(key)')")
                }
                typeKey = pair
                continue
            }
            switch key {
            case "needs":
                let list = pair.value.items ?? (pair.value.scalar != nil && !pair.value.isNull ? [pair.value] : nil)
                guard let list else {
                    throw Diagnostic(
                        at: pair.value.loc, in: source,
                        "'needs' in stage '\(name)' must be a list of stage names, found \(pair.value.kindDescription)")
                }
                for item in list {
                    guard let dep = item.scalar, !item.isNull, item.pairs == nil else {
                        throw Diagnostic(
                            at: item.loc, in: source, "items of 'needs' in stage '\(name)' must be stage names")
                    }
                    if dep == name {
                        throw Diagnostic(
                            at: item.loc, in: source, "dependency cycle: \(name) -> \(name)")
                    }
                    if needLocations[dep] == nil {
                        needs.append(dep)
                        needLocations[dep] = item.loc
                    }
                }
            case "description":
                description = pair.value.scalar
            default:
                // A mapping value under an unknown key reads as an unknown stage type; anything else as a typo.
                let known = registry.names
                if pair.value.pairs != nil {
                    var message = "unknown stage type '\(key)' in stage '\(name)'"
                    if let s = Suggest.closest(to: key, among: known) {
                        message += " (did you mean '\(s)'?)"
                    } else {
                        message += " (known types: \(known.joined(separator: ", ")))"
                    }
                    throw Diagnostic(at: pair.key.loc, in: source, message)
                }
                var message = "unknown key '\(key)' in stage '\(name)'"
                if let s = Suggest.closest(to: key, among: Self.stageKeys + known) {
                    message += " (did you mean '\(s)'?)"
                }
                throw Diagnostic(at: pair.key.loc, in: source, message)
            }
        }
        guard let typePair = typeKey, let typeName = typePair.key.scalar, let type = registry.types[typeName] else {
            throw Diagnostic(
                at: node.loc, in: source,
                "stage '\(name)' has no type (expected one of: \(registry.names.joined(separator: ", ")))")
        }
        let context = "stage '\(name)' (\(typeName))"
        try type.schema.validate(typePair.value, context: context, source: source)
        let config = StageConfig(stageName: name, node: typePair.value, source: source, defaults: defaults)
        let stage = try type.init(config: config)
        for ref in stage.references where needLocations[ref.stage] == nil {
            if ref.stage == name {
                throw Diagnostic(
                    at: ref.location ?? typePair.value.loc, in: source, "dependency cycle: \(name) -> \(name)")
            }
            needs.append(ref.stage)
            needLocations[ref.stage] = ref.location ?? typePair.value.loc
        }
        let pipelineStage = PipelineStage(
            name: name, typeName: typeName, stage: stage, dependencies: needs, location: pair0(node, typePair),
            canonicalConfig: Canonical.encode(typePair.value, schema: type.schema), description: description)
        return (pipelineStage, needLocations)
    }

    private func pair0(_ node: YAMLNode, _ typePair: YAMLPair) -> SourceLocation? {
        typePair.key.location ?? node.location
    }
}
