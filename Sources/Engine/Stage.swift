public import YAML

/// A stage type: one value per stage of a pipeline, parsed from the stage's configuration mapping.
///
/// Like an llbuild2 key, a stage is a value with a static `version` and declared inputs. The engine folds the
/// type name, the version, the canonical configuration, the digests of `inputs` and the digests of every
/// upstream stage's outputs into the action key, so bumping `version` invalidates every cached result of the
/// type (and, through output digests, whatever downstream changes).
public protocol Stage: Sendable {
    /// The key that selects this type in `contrast.pipeline.yaml` (e.g. `command`).
    static var typeName: String { get }
    /// Implementation version; bump it whenever the outputs for the same inputs could change.
    static var version: Int { get }
    /// The configuration schema, validated before `init(config:)` is called.
    static var schema: ConfigSchema { get }
    /// One line for `--help` and docs.
    static var summary: String { get }

    /// Builds the stage from its validated configuration.
    init(config: StageConfig) throws(Diagnostic)

    /// Workspace-relative files the stage reads; their digests are part of the action key.
    var inputs: [String] { get }
    /// Workspace-relative files the stage writes (they are stored and restored by the engine).
    var outputs: [String] { get }
    /// Upstream stages whose outputs this stage consumes (`from:`); each implies a dependency.
    var references: [StageReference] { get }
    /// Non-nil when the stage acts on something outside the workspace (a cluster, a Coordinator): the name
    /// of that target. Such stages are never restored from the action cache; the engine records the last
    /// successful key per target and skips them while it is unchanged.
    var sideEffectTarget: String? { get }

    /// Inputs the stage creates itself when they are missing (e.g. key files); a subset of `inputs`. The engine
    /// calls `createInputs` before computing the action key in a run, so the first run's key already covers them.
    var createdInputs: [String] { get }

    /// Creates the missing `createdInputs` (workspace-relative paths resolved against `workspace`).
    func createInputs(in workspace: String) throws

    /// Does the work. Throwing `StageFailure` (or any error) marks the stage failed.
    func run(_ context: StageContext) async throws -> StageResult
}

extension Stage {
    public var references: [StageReference] { [] }
    public var sideEffectTarget: String? { nil }
    public var createdInputs: [String] { [] }
    public func createInputs(in workspace: String) throws {}
}

/// A reference to another stage from inside a stage's configuration (e.g. `from: fetch`).
public struct StageReference: Sendable, Hashable {
    /// The referenced stage.
    public var stage: String
    /// Where the reference is written.
    public var location: SourceLocation?

    /// Creates a reference.
    public init(stage: String, location: SourceLocation?) {
        self.stage = stage
        self.location = location
    }
}

/// What a finished stage reports back.
public struct StageResult: Sendable {
    /// Workspace-relative output files actually produced; nil means "the declared `outputs`".
    public var outputs: [String]?
    /// A process exit status or 0.
    public var exitStatus: Int32

    /// Creates a result.
    public init(outputs: [String]? = nil, exitStatus: Int32 = 0) {
        self.outputs = outputs
        self.exitStatus = exitStatus
    }
}

/// A stage failure with a message for the user (and the log, if any, shown below it).
public struct StageFailure: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// Exit status of a failed process, if that is what failed.
    public var exitStatus: Int32?
    /// True when the failure is the user's input (a diff that does not apply, requests ≠ limits, a digest
    /// mismatch): the CLI then exits with code 2 like any other configuration error.
    public var isInputError: Bool

    /// Creates a failure.
    public init(_ message: String, exitStatus: Int32? = nil, isInputError: Bool = false) {
        self.message = message
        self.exitStatus = exitStatus
        self.isInputError = isInputError
    }

    public var description: String { message }
}

/// The validated configuration mapping of one stage, with typed accessors.
public struct StageConfig: Sendable {
    /// The stage's name.
    public let stageName: String
    /// The configuration mapping (the value under the type key).
    public let node: YAMLNode
    /// The pipeline file, for excerpts in diagnostics.
    public let source: SourceText?
    /// Pipeline defaults (platform etc.), for stages that need them.
    public let defaults: PipelineDefaults

    /// Creates a config view.
    public init(stageName: String, node: YAMLNode, source: SourceText?, defaults: PipelineDefaults) {
        self.stageName = stageName
        self.node = node
        self.source = source
        self.defaults = defaults
    }

    /// A string field (scalars of any kind are taken as their text).
    public func string(_ key: String) -> String? {
        node[key]?.scalar
    }

    /// A string-or-list field as a list (empty when absent).
    public func strings(_ key: String) -> [String] {
        guard let value = node[key] else { return [] }
        if let items = value.items { return items.compactMap(\.scalar) }
        return value.scalar.map { [$0] } ?? []
    }

    /// A boolean field.
    public func bool(_ key: String) -> Bool? { node[key]?.bool }

    /// An integer field.
    public func int(_ key: String) -> Int? { node[key]?.int }

    /// A string map field, in file order.
    public func stringMap(_ key: String) -> [(String, String)] {
        node[key]?.pairs?.compactMap { p in p.key.scalar.flatMap { k in p.value.scalar.map { (k, $0) } } } ?? []
    }

    /// The location of a key's value (or of the mapping).
    public func location(of key: String) -> SourceLocation? {
        node[key]?.location ?? node.location
    }

    /// References to stages named by a string-or-list field (e.g. `from`).
    public func references(_ key: String) -> [StageReference] {
        guard let value = node[key] else { return [] }
        if let items = value.items {
            return items.compactMap { i in i.scalar.map { StageReference(stage: $0, location: i.location) } }
        }
        return value.scalar.map { [StageReference(stage: $0, location: value.location)] } ?? []
    }

    /// A diagnostic pointing at `key`'s value.
    public func error(at key: String, _ message: String) -> Diagnostic {
        let loc = location(of: key) ?? SourceLocation(file: "<config>", line: 0, column: 0)
        return Diagnostic(at: loc, in: source, message)
    }
}
