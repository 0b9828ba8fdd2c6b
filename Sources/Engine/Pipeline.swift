public import YAML

/// Pipeline-wide settings from `defaults:`.
public struct PipelineDefaults: Sendable {
    /// Cache directory, relative to the pipeline file's directory unless absolute.
    public var cache: String = "cache"
    /// Workspace directory (where stage paths are resolved), relative to the pipeline file's directory.
    public var workspace: String = "."
    /// Default Contrast platform for stages that need one.
    public var platform: String?

    /// Defaults with no overrides.
    public init() {}
}

/// One stage of a loaded pipeline.
public struct PipelineStage: Sendable {
    /// The stage's name (its key under `stages:`).
    public var name: String
    /// The type key (e.g. `command`).
    public var typeName: String
    /// The parsed stage.
    public var stage: any Stage
    /// Upstream stages: `needs:` plus every `from:` reference, deduplicated, in file order.
    public var dependencies: [String]
    /// Where the stage is defined.
    public var location: SourceLocation?
    /// The canonical form of the stage's configuration (sorted keys, typed scalars): part of the action key.
    public var canonicalConfig: String
    /// The optional description.
    public var description: String?
}

/// A loaded, validated `contrast.pipeline.yaml`.
public struct Pipeline: Sendable {
    /// The schema version this build reads.
    public static let schemaVersion = 1

    /// The pipeline's name (also the namespace of its records in a shared cache).
    public var name: String
    /// The pipeline file's path as given.
    public var file: String
    /// Absolute directory of the pipeline file.
    public var directory: String
    /// Defaults as written.
    public var defaults: PipelineDefaults
    /// SHA-256 of the pipeline file's bytes (for the no-op fast path).
    public var sourceDigest: String = ""
    /// Stages in file order.
    public var stages: [PipelineStage] {
        didSet { index = Pipeline.makeIndex(stages) }
    }
    private var index: [String: Int]

    /// Creates a pipeline.
    public init(name: String, file: String, directory: String, defaults: PipelineDefaults, stages: [PipelineStage]) {
        self.name = name
        self.file = file
        self.directory = directory
        self.defaults = defaults
        self.stages = stages
        self.index = Pipeline.makeIndex(stages)
    }

    private static func makeIndex(_ stages: [PipelineStage]) -> [String: Int] {
        var index: [String: Int] = [:]
        for (i, s) in stages.enumerated() where index[s.name] == nil { index[s.name] = i }
        return index
    }

    /// Absolute cache directory.
    public var cacheDirectory: String { Paths.resolve(defaults.cache, against: directory) }
    /// Absolute workspace directory.
    public var workspace: String { Paths.resolve(defaults.workspace, against: directory) }

    /// The stage named `name`.
    public func stage(_ name: String) -> PipelineStage? {
        index[name].map { stages[$0] }
    }
}
