import Crypto
import Foundation
import Synchronization

/// Options for a run or a plan.
public struct RunOptions: Sendable {
    /// Stages to build (with what they need); empty means all.
    public var targets: [String] = []
    /// Maximum stages executing at once.
    public var jobs: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Continue independent branches after a failure.
    public var keepGoing = false
    /// Stages to run even when up to date.
    public var force: Set<String> = []
    /// contrast-pipe version folded into every action key.
    public var toolVersion: String = "0"

    /// Default options.
    public init() {}
}

/// The result of a run.
public struct RunReport: Sendable {
    /// Outcome per stage that was considered.
    public var outcomes: [String: StageOutcome] = [:]
    /// Stage → reason.
    public var reasons: [String: String] = [:]
    /// Counters (memo hits and misses, files hashed).
    public var counters: [String: Int] = [:]
    /// Wall time.
    public var milliseconds: Int = 0
    /// Failed stages whose failure is the user's input (exit code 2 rather than 1).
    public var inputErrors: Set<String> = []

    /// The CLI exit code: 0 success, 2 when every failure is an input error, 1 otherwise.
    public var exitCode: Int32 {
        if succeeded { return 0 }
        let failed = Set(outcomes.filter { $0.value == .failed }.map(\.key))
        return failed.isSubset(of: inputErrors) ? 2 : 1
    }

    /// Number of stages with `outcome`.
    public func count(_ outcome: StageOutcome) -> Int { outcomes.values.filter { $0 == outcome }.count }
    /// True when no stage failed.
    public var succeeded: Bool { count(.failed) == 0 }
}

/// Executes a pipeline: topological order, independent stages in parallel, action-cache lookups, restores,
/// early cutoff (downstream keys fold in upstream output digests, so an unchanged output stops propagation),
/// side-effect records and run history.
public final class Runner: Sendable {
    let pipeline: Pipeline
    let graph: StageGraph
    let store: Store
    let files: FileDigests
    let options: RunOptions
    let reporter: any RunReporter
    let counters = RunCounters()
    let states: [String: (key: String, fields: String)]
    /// Action records of the stages' latest keys and the applied side-effect keys, read once up front.
    /// `cache gc` drops action entries whose blobs it removes, so a preloaded record's blobs exist.
    let latest: [String: ActionRecord]
    let applied: [String: String]

    /// Prepares a run over `pipeline` with `store`.
    public init(pipeline: Pipeline, store: Store, options: RunOptions, reporter: any RunReporter) throws {
        self.pipeline = pipeline
        self.graph = try StageGraph(pipeline)
        self.store = store
        self.files = FileDigests(records: try store.fileStats())
        self.options = options
        self.reporter = reporter
        self.states = try store.stageStates(pipeline: pipeline.name)
        self.latest = try store.latestActions(pipeline: pipeline.name)
        self.applied = try store.appliedKeys(pipeline: pipeline.name)
        for t in options.targets + Array(options.force) where pipeline.stage(t) == nil {
            throw EngineError.unknownStage(t, suggestion: Suggest.closest(to: t, among: graph.names))
        }
    }

    /// What finished upstream stages hand to their dependents.
    struct Finished: Sendable {
        var outcome: StageOutcome
        var outputs: [OutputRecord]
        var digest: String
        var inputError = false
    }

    // MARK: - Deciding

    /// Decides what to do with one stage given its finished upstream stages.
    func decide(_ ps: PipelineStage, upstream: [String: Finished], planning: Bool = false) throws -> Decision {
        let stage = ps.stage
        let missingCreated = stage.createdInputs.filter {
            FileSystem.fileStat(Paths.resolve($0, against: pipeline.workspace)) == nil
        }
        if !missingCreated.isEmpty {
            if planning {
                return Decision(stage: ps.name, action: .run, reasons: missingCreated.map { "input \($0) will be created" })
            }
            try stage.createInputs(in: pipeline.workspace)
        }
        let type = type(of: stage)
        var ups: [String: String] = [:]
        for dep in ps.dependencies {
            guard let f = upstream[dep] else {
                return Decision(stage: ps.name, action: .pending, reasons: ["after upstream \(dep)"])
            }
            ups[dep] = f.digest
        }
        // Inputs produced by upstream stages take the digest recorded for them (the file may be about to
        // be restored); other inputs are hashed (stat fast path).
        var produced: [String: String] = [:]
        for dep in ps.dependencies {
            for output in upstream[dep]?.outputs ?? [] { produced[Paths.normalize(output.path)] = output.digest }
        }
        var inputs: [String: String] = [:]
        for input in stage.inputs {
            if let digest = produced[Paths.normalize(input)] {
                inputs[input] = digest
                continue
            }
            let abs = Paths.resolve(input, against: pipeline.workspace)
            guard let digest = try files.digest(of: abs) else {
                return Decision(stage: ps.name, action: .blocked, reasons: ["input \(input) does not exist"])
            }
            inputs[input] = digest
        }
        let fields = KeyFields(
            type: type.typeName, version: type.version, tool: options.toolVersion,
            config: SHA256.hash(string: ps.canonicalConfig).hex, inputs: inputs, upstream: ups)
        let key = fields.actionKey
        var decision = Decision(stage: ps.name, action: .run, reasons: [], key: key, fields: fields)
        if options.force.contains(ps.name) {
            decision.reasons = ["forced (--force \(ps.name))"]
            return decision
        }
        if let target = stage.sideEffectTarget {
            let applied = self.applied["\(ps.name)\u{0}\(target)"]
            if applied != key {
                decision.reasons = runReasons(ps.name, fields, previous: states[ps.name])
                if applied == nil { decision.reasons = ["never applied to \(target)"] }
                return decision
            }
        }
        guard let record = try latest[key] ?? store.action(key) else {
            decision.reasons = runReasons(ps.name, fields, previous: states[ps.name])
            return decision
        }
        decision.cached = record
        for output in record.outputs {
            let abs = Paths.resolve(output.path, against: pipeline.workspace)
            let onDisk = try files.digest(of: abs)
            if onDisk == nil {
                decision.toRestore.append(output)
                decision.reasons.append("output \(output.path) missing → restore")
            } else if onDisk != output.digest {
                decision.toRestore.append(output)
                decision.reasons.append("output \(output.path) modified → restore")
            } else if FileSystem.mode(abs) != output.mode {
                decision.toRestore.append(output)
                decision.reasons.append("output \(output.path) mode changed → restore")
            }
        }
        decision.action = decision.toRestore.isEmpty ? .upToDate : .restore
        if decision.action == .upToDate {
            decision.reasons = [stage.sideEffectTarget.map { "already applied to \($0)" } ?? "up to date"]
        }
        return decision
    }

    private func runReasons(_ name: String, _ fields: KeyFields, previous: (key: String, fields: String)?) -> [String] {
        guard let previous else { return ["never ran"] }
        guard let old = KeyFields.decode(previous.fields) else { return ["no cached result for this key"] }
        let changes = fields.changes(since: old)
        if changes.isEmpty { return ["no cached result for this key"] }
        return changes
    }

    // MARK: - Planning

    /// What `run` would do, without doing it. Stages after one that would run are `pending` unless their
    /// key does not depend on it.
    public func plan() throws -> [Decision] {
        var finished: [String: Finished] = [:]
        var out: [Decision] = []
        for name in graph.closure(of: options.targets) {
            guard let ps = pipeline.stage(name) else { continue }
            var d = try decide(ps, upstream: finished, planning: true)
            if d.action == .pending, let dep = ps.dependencies.first(where: { finished[$0] == nil }) {
                d.reasons = ["upstream \(dep) will run first (runs only if its outputs change)"]
            }
            if d.action == .upToDate || d.action == .restore, let record = d.cached {
                let effect = ps.stage.sideEffectTarget == nil ? nil : d.key
                finished[name] = Finished(
                    outcome: .cached, outputs: record.outputs,
                    digest: OutputsDigest.of(record.outputs, sideEffectKey: effect))
            } else if d.action == .upToDate, ps.stage.sideEffectTarget != nil, let key = d.key {
                finished[name] = Finished(outcome: .cached, outputs: [], digest: OutputsDigest.of([], sideEffectKey: key))
            }
            out.append(d)
        }
        return out
    }
}

/// Errors of the engine that are not about a file position.
public enum EngineError: Error, CustomStringConvertible, Sendable {
    case unknownStage(String, suggestion: String?)
    case lockBusy(path: String)

    public var description: String {
        switch self {
        case .unknownStage(let s, let suggestion):
            "no stage named '\(s)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
        case .lockBusy(let path):
            "another contrast-pipe run holds the cache lock (\(path)); not waiting (--no-wait)"
        }
    }
}
