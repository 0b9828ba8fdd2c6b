public import Engine
import Foundation
import Kube
public import Patching
public import YAML

/// `patch`: applies unified diffs (git-apply semantics) and/or declarative pod-spec transforms to a
/// Kubernetes YAML file.
///
///     patch:
///       patch:
///         input: resources/emojivoto-demo.yml
///         from: fetch
///         output: build/emojivoto.yml
///         diffs: [patches/runtime-class.diff]     # applied in order; all hunks or nothing
///         fuzz: 0                                 # context lines a hunk may ignore (default 0)
///         transforms:
///           - runtime-class: contrast-cc
///           - memory: 400Mi
///             select: {kind: Deployment, name: [web]}
///             containers: [web-svc]
///           - annotations: {contrast.edgeless.systems/servicemesh-ingress: ""}
///             select: {name: emoji}
///           - remove-annotations: [example.com/debug]
///
/// With transforms the output is re-emitted as deterministic YAML (comments are dropped); with diffs only it
/// is the patched text.
public struct PatchStage: Stage {
    public static let typeName = "patch"
    public static let version = 1
    public static let summary = "apply unified diffs and declarative transforms to Kubernetes YAML"
    public static let schema = ConfigSchema([
        .init("input", .string, required: true),
        .init("output", .string, required: true),
        .init("from", .stringOrList),
        .init("diffs", .stringOrList),
        .init("fuzz", .int),
        .init("transforms", .any),
    ])

    static let selectSchema = ConfigSchema([
        .init("kind", .stringOrList), .init("name", .stringOrList), .init("namespace", .stringOrList),
        .init("labels", .stringMap),
    ])
    static let transformSchema = ConfigSchema([
        .init("runtime-class", .string), .init("memory", .string), .init("annotations", .stringMap),
        .init("remove-annotations", .stringOrList), .init("select", .object(selectSchema)),
        .init("containers", .stringOrList),
    ])

    /// The file patched.
    public let input: String
    /// The file written.
    public let output: String
    /// Diff files, applied in order.
    public let diffs: [String]
    /// Allowed fuzz.
    public let fuzz: Int
    /// Transforms, applied in order after the diffs.
    public let transforms: [Transform]
    public let references: [StageReference]

    public var inputs: [String] { [input] + diffs }
    public var outputs: [String] { [output] }

    public init(config: StageConfig) throws(Diagnostic) {
        let context = "stage '\(config.stageName)' (patch)"
        input = config.string("input") ?? ""
        output = config.string("output") ?? ""
        diffs = config.strings("diffs")
        fuzz = config.int("fuzz") ?? 0
        if fuzz < 0 { throw config.error(at: "fuzz", "'fuzz' in \(context) must not be negative") }
        for (key, p) in [("input", input), ("output", output)] + diffs.map({ ("diffs", $0) }) where !Paths.isContained(p) {
            throw config.error(at: key, "'\(p)' in '\(key)' of \(context) must be a path inside the workspace")
        }
        references = config.references("from")
        var transforms: [Transform] = []
        if let node = config.node["transforms"] {
            guard let items = node.items else {
                throw config.error(at: "transforms", "'transforms' in \(context) must be a list, found \(node.kindDescription)")
            }
            for (i, item) in items.enumerated() {
                transforms.append(try Self.parseTransform(item, index: i + 1, context: context, source: config.source))
            }
        }
        if diffs.isEmpty && transforms.isEmpty {
            throw config.error(at: "input", "\(context) has neither 'diffs' nor 'transforms'")
        }
        self.transforms = transforms
    }

    static func parseTransform(_ item: YAMLNode, index: Int, context: String, source: SourceText?) throws(Diagnostic)
        -> Transform
    {
        let where_ = "transform #\(index) of \(context)"
        try transformSchema.validate(item, context: where_, source: source)
        let loc = item.location ?? SourceLocation(file: "<config>", line: 0, column: 0)
        let actions = ["runtime-class", "memory", "annotations", "remove-annotations"].filter { item[$0] != nil }
        guard actions.count == 1 else {
            throw Diagnostic(
                at: loc, in: source,
                actions.isEmpty
                    ? "\(where_) needs one of runtime-class, memory, annotations, remove-annotations"
                    : "\(where_) has more than one action (\(actions.joined(separator: ", ")))")
        }
        func list(_ node: YAMLNode?) -> [String] {
            guard let node else { return [] }
            return node.items?.compactMap(\.scalar) ?? node.scalar.map { [$0] } ?? []
        }
        if item["containers"] != nil && actions[0] != "memory" {
            throw Diagnostic(at: item["containers"]?.location ?? loc, in: source, "'containers' in \(where_) only goes with 'memory'")
        }
        let action: Transform.Action
        switch actions[0] {
        case "runtime-class": action = .runtimeClass(item["runtime-class"]?.scalar ?? "")
        case "memory":
            let value = item["memory"]?.scalar ?? ""
            guard Quantity.bytes(value) != nil else {
                throw Diagnostic(at: item["memory"]?.location ?? loc, in: source, "'\(value)' in \(where_) is not a memory quantity")
            }
            action = .memory(value, containers: list(item["containers"]))
        case "annotations":
            let pairs = item["annotations"]?.pairs ?? []
            var values: [String: String] = [:]
            for p in pairs { values[p.key.scalar ?? ""] = p.value.scalar ?? "" }
            action = .annotations(values, order: pairs.compactMap(\.key.scalar))
        default: action = .removeAnnotations(list(item["remove-annotations"]))
        }
        var selector = Selector()
        if let select = item["select"] {
            selector.kinds = list(select["kind"])
            selector.names = list(select["name"])
            selector.namespaces = list(select["namespace"])
            for p in select["labels"]?.pairs ?? [] { selector.labels[p.key.scalar ?? ""] = p.value.scalar ?? "" }
        }
        return Transform(action: action, selector: selector, location: item.location)
    }

    public func run(_ context: StageContext) async throws -> StageResult {
        let text = try Self.readText(context.path(input), name: input)
        let result = try Self.patch(text: text, inputName: input, diffs: diffs.map { ($0, context.path($0)) }, fuzz: fuzz,
            transforms: transforms)
        for note in result.notes { context.log(note) }
        try FileSystem.writeAtomically(Array(result.text.utf8), to: context.path(output))
        return StageResult()
    }

    /// Reads a UTF-8 text file; failures are input errors.
    public static func readText(_ path: String, name: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StageFailure("cannot read \(name)", isInputError: true)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw StageFailure("\(name) is not UTF-8 text", isInputError: true)
        }
        return text
    }

    /// The whole patch operation, shared by the stage and `contrast-pipe patch`.
    public static func patch(
        text: String,
        inputName: String,
        diffs: [(name: String, path: String)],
        fuzz: Int,
        transforms: [Transform]
    ) throws -> PatchResult {
        var current = text
        var notes: [String] = []
        for diff in diffs {
            do {
                let parsed = try UnifiedDiff(text: try readText(diff.path, name: diff.name), name: diff.name)
                let result = try parsed.apply(to: current, fuzz: fuzz)
                current = result.text
                notes += result.notes
            } catch let e as PatchError {
                throw StageFailure(e.message, isInputError: true)
            }
        }
        guard !transforms.isEmpty else { return PatchResult(text: current, notes: notes) }
        do {
            var documents = try KubeDocuments(yaml: current, file: inputName)
            for t in transforms {
                let n = try t.apply(to: &documents)
                notes.append("transform '\(t.action.label)' changed \(n) workload\(n == 1 ? "" : "s")")
            }
            return PatchResult(text: try documents.yaml(), notes: notes)
        } catch {
            throw StageFailure(error.description, isInputError: true)
        }
    }
}
