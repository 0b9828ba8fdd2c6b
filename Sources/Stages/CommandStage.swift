public import Engine
public import YAML

/// `command`: runs a program with declared inputs and outputs.
///
///     build:
///       command:
///         argv: [cc, -o, app, main.c]     # or `shell: "cc -o app main.c"` (run by /bin/sh -c)
///         inputs: [main.c]
///         outputs: [app]
///         from: [fetch]                   # consume upstream outputs (implies needs)
///         env: {CFLAGS: -O2}
///         side-effect: staging-cluster    # acts outside the workspace: skipped while its key is unchanged
///
/// The program runs in the workspace directory. `CONTRAST_PIPE_STAGE` names the stage and
/// `CONTRAST_PIPE_FROM` lists the outputs of the `from:` stages, one workspace-relative path per line.
public struct CommandStage: Stage {
    public static let typeName = "command"
    public static let version = 1
    public static let summary = "run a program with declared inputs and outputs"
    public static let schema = ConfigSchema([
        .init("argv", .stringList),
        .init("shell", .string),
        .init("inputs", .stringOrList),
        .init("outputs", .stringOrList),
        .init("from", .stringOrList),
        .init("env", .stringMap),
        .init("side-effect", .string),
    ])

    /// The program and its arguments.
    public let argv: [String]
    public let inputs: [String]
    public let outputs: [String]
    public let references: [StageReference]
    /// Extra environment variables, sorted by name.
    public let environment: [(String, String)]
    public let sideEffectTarget: String?

    public init(config: StageConfig) throws(Diagnostic) {
        let context = "stage '\(config.stageName)' (command)"
        switch (config.node["argv"], config.string("shell")) {
        case (.some, .some):
            throw config.error(at: "shell", "\(context) sets both 'argv' and 'shell'; use one")
        case (.none, .none):
            throw Diagnostic(
                at: config.node.location ?? SourceLocation(file: "<config>", line: 0, column: 0), in: config.source,
                "missing required key 'argv' (or 'shell') in \(context)")
        case (.some, .none):
            argv = config.strings("argv")
            if argv.isEmpty { throw config.error(at: "argv", "'argv' in \(context) must not be empty") }
        case (.none, .some(let shell)):
            argv = ["/bin/sh", "-c", shell]
        }
        inputs = config.strings("inputs")
        outputs = config.strings("outputs")
        for (key, paths) in [("inputs", inputs), ("outputs", outputs)] {
            for p in paths where !Paths.isContained(p) {
                throw config.error(at: key, "'\(p)' in '\(key)' of \(context) must be a path inside the workspace")
            }
        }
        references = config.references("from")
        environment = config.stringMap("env").sorted { $0.0 < $1.0 }
        sideEffectTarget = config.string("side-effect")
    }

    public func run(_ context: StageContext) async throws -> StageResult {
        var env = ["CONTRAST_PIPE_STAGE": context.stageName]
        let fromPaths = references.flatMap { context.upstream[$0.stage] ?? [] }.map(\.path)
        env["CONTRAST_PIPE_FROM"] = fromPaths.joined(separator: "\n")
        for (k, v) in environment { env[k] = v }
        let result = try await ProcessRunner.run(
            argv, directory: context.workspace, environment: env, logPath: context.logPath)
        if result.status != 0 {
            throw StageFailure("\(argv[0]) exited with status \(result.status)", exitStatus: result.status)
        }
        return StageResult()
    }
}
