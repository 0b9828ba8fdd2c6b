import Engine
import Foundation
import Kube
import Patching
import Stages
import YAML

/// The implementations of the subcommands.
enum Commands {
    static func loadPipeline(_ args: Arguments) throws -> Pipeline {
        let loader = PipelineLoader(registry: BuiltinStages.registry)
        return try loader.load(path: args.file)
    }

    static func options(_ args: Arguments) -> RunOptions {
        var o = RunOptions()
        o.targets = args.positional
        if let j = args.jobs { o.jobs = j }
        o.keepGoing = args.keepGoing
        o.force = Set(args.force)
        o.toolVersion = Help.version
        return o
    }

    static func openStore(_ cacheDirectory: String) throws -> Store {
        try FileSystem.makeDirectories(cacheDirectory)
        return try Store(path: cacheDirectory + "/store.sqlite")
    }

    // MARK: - run

    static func run(_ args: Arguments) async throws -> Int32 {
        let trace = Trace()
        let json = args.json
        let onWait: (String) -> Void = { message in
            if json {
                JSONReporter.emit(["event": "note", "message": message])
            } else {
                Output.err(message)
            }
        }
        // No-op fast path: byte-identical pipeline file and unchanged file stats since a successful full run.
        var held: (CacheLock, Store, String)?
        if args.positional.isEmpty && args.force.isEmpty, let peek = PipelineLoader.peek(path: args.file),
            FileManager.default.fileExists(atPath: peek.cacheDirectory + "/store.sqlite")
        {
            let lock = try CacheLock(cacheDirectory: peek.cacheDirectory, wait: !args.noWait, onWait: onWait)
            let store = try openStore(peek.cacheDirectory)
            trace.mark("peek + lock + open store")
            if let stored = try store.storedFingerprint(NoOpFingerprint.key(pipelineFile: args.file)),
                stored.isCurrent(pipelineDigest: peek.digest, tool: Help.version)
            {
                trace.mark("fingerprint check")
                return try reportNoOp(stored.stages, store: store, args: args, lock: lock)
            }
            held = (lock, store, peek.cacheDirectory)
        }
        let pipeline = try loadPipeline(args)
        trace.mark("load pipeline")
        let lock: CacheLock
        let store: Store
        if let held, held.2 == pipeline.cacheDirectory {
            (lock, store) = (held.0, held.1)
        } else {
            held = nil
            lock = try CacheLock(cacheDirectory: pipeline.cacheDirectory, wait: !args.noWait, onWait: onWait)
            store = try openStore(pipeline.cacheDirectory)
        }
        trace.mark("lock + open store")
        let interactive =
            isatty(2) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            && ProcessInfo.processInfo.environment["TERM"] != "dumb" && !args.json
        let graph = try StageGraph(pipeline)
        let total = graph.closure(of: args.positional.filter { pipeline.stage($0) != nil }).count
        let live = interactive ? LiveReporter(total: total, quiet: args.quiet) : nil
        let reporter: any RunReporter
        if args.json {
            reporter = JSONReporter()
        } else if let live {
            reporter = live
        } else {
            reporter = PlainReporter(quiet: args.quiet)
        }
        let runner = try Runner(pipeline: pipeline, store: store, options: options(args), reporter: reporter)
        trace.mark("graph + runner setup")
        var ticker: Task<Void, Never>?
        if let live {
            ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: 200_000_000)
                    live.tick()
                }
            }
        }
        let report = try await runner.run()
        trace.mark("run")
        ticker?.cancel()
        live?.finish()
        withExtendedLifetime(lock) {}
        let summary =
            "\(report.count(.ran)) ran, \(report.count(.cached)) cached, \(report.count(.restored)) restored"
            + (report.count(.failed) > 0 ? ", \(report.count(.failed)) failed" : "")
            + (report.count(.skipped) > 0 ? ", \(report.count(.skipped)) skipped" : "")
            + " in \(Output.seconds(report.milliseconds))"
        if args.json {
            JSONReporter.emit([
                "event": "summary", "ran": report.count(.ran), "cached": report.count(.cached),
                "restored": report.count(.restored), "failed": report.count(.failed),
                "skipped": report.count(.skipped), "duration_ms": report.milliseconds, "counters": report.counters,
            ])
        } else {
            Output.err(summary)
        }
        return report.exitCode
    }

    /// Reports a no-op run found by the fingerprint: every stage cached.
    static func reportNoOp(
        _ fp: (pipeline: String, stages: [String]),
        store: Store,
        args: Arguments,
        lock: CacheLock
    ) throws -> Int32 {
        let start = DispatchTime.now()
        for stage in fp.stages {
            if args.json {
                JSONReporter.emit([
                    "event": "cached", "outcome": "cached", "stage": stage, "reason": "up to date", "duration_ms": 0,
                ])
            } else if !args.quiet {
                Output.err("cached   \(stage): up to date")
            }
        }
        let ms = Int((DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000)
        try store.recordRun(
            pipeline: fp.pipeline,
            summary: RunSummary(
                id: 0,
                ran: 0,
                cached: fp.stages.count,
                restored: 0,
                failed: 0,
                skipped: 0,
                status: "ok"
            )
        )
        withExtendedLifetime(lock) {}
        if args.json {
            JSONReporter.emit([
                "event": "summary", "ran": 0, "cached": fp.stages.count, "restored": 0, "failed": 0, "skipped": 0,
                "duration_ms": ms, "counters": ["noop.fastpath": 1],
            ])
        } else {
            Output.err("0 ran, \(fp.stages.count) cached, 0 restored in \(Output.seconds(ms))")
        }
        return 0
    }

    // MARK: - plan / check

    static func plan(_ args: Arguments, check: Bool) throws -> Int32 {
        if check, !args.json, args.positional.isEmpty, args.force.isEmpty,
            let peek = PipelineLoader.peek(path: args.file),
            FileManager.default.fileExists(atPath: peek.cacheDirectory + "/store.sqlite")
        {
            let store = try openStore(peek.cacheDirectory)
            if let stored = try store.storedFingerprint(NoOpFingerprint.key(pipelineFile: args.file)),
                stored.isCurrent(pipelineDigest: peek.digest, tool: Help.version)
            {
                Output.out("up to date (\(stored.stages.stages.count) stages)")
                return 0
            }
        }
        let pipeline = try loadPipeline(args)
        let store = try openStore(pipeline.cacheDirectory)
        let runner = try Runner(pipeline: pipeline, store: store, options: options(args), reporter: SilentReporter())
        let decisions = try runner.plan()
        let stale = decisions.filter { $0.action != .upToDate }
        if args.json {
            for d in decisions {
                JSONReporter.emit([
                    "stage": d.stage, "action": d.action.rawValue, "reasons": d.reasons, "key": d.key ?? "",
                ])
            }
        } else if check {
            for d in stale { Output.out("stale: \(d.stage): \(d.reason)") }
            Output.out(
                stale.isEmpty
                    ? "up to date (\(decisions.count) stages)" : "\(stale.count) of \(decisions.count) stages stale"
            )
        } else {
            for d in decisions {
                Output.out(
                    "\(d.action.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(d.stage): \(d.reason)"
                )
            }
        }
        if check { return stale.isEmpty ? 0 : 1 }
        return 0
    }

    // MARK: - graph

    static func graph(_ args: Arguments) throws -> Int32 {
        let pipeline = try loadPipeline(args)
        let graph = try StageGraph(pipeline)
        let types = Dictionary(uniqueKeysWithValues: pipeline.stages.map { ($0.name, $0.typeName) })
        FileHandle.standardOutput.write(Data(graph.dot(name: pipeline.name, types: types).utf8))
        return 0
    }

    // MARK: - explain

    static func explain(_ args: Arguments) throws -> Int32 {
        guard let name = args.positional.first, args.positional.count == 1 else {
            throw UsageError(message: "explain needs exactly one stage name")
        }
        let pipeline = try loadPipeline(args)
        guard let ps = pipeline.stage(name) else {
            throw EngineError.unknownStage(
                name,
                suggestion: Suggest.closest(to: name, among: pipeline.stages.map(\.name))
            )
        }
        let store = try openStore(pipeline.cacheDirectory)
        var opts = options(args)
        opts.targets = [name]
        let runner = try Runner(pipeline: pipeline, store: store, options: opts, reporter: SilentReporter())
        let decision = try runner.plan().first { $0.stage == name }
        let history = try store.history(pipeline: pipeline.name, stage: name)
        if args.json {
            JSONReporter.emit([
                "stage": name, "type": ps.typeName, "action": decision?.action.rawValue ?? "",
                "reasons": decision?.reasons ?? [],
                "key": decision?.key ?? "",
                "history": history.map {
                    [
                        "run": $0.runID, "outcome": $0.outcome, "reason": $0.reason,
                        "duration_ms": $0.durationMilliseconds,
                    ] as [String: Any]
                },
            ])
            return 0
        }
        Output.out("stage \(name) (\(ps.typeName))" + (ps.description.map { ": \($0)" } ?? ""))
        if !ps.dependencies.isEmpty { Output.out("  needs: \(ps.dependencies.joined(separator: ", "))") }
        if let d = decision {
            Output.out("  now: \(d.action.rawValue) — \(d.reason)")
            if let key = d.key { Output.out("  action key: \(key)") }
        }
        if history.isEmpty {
            Output.out("  no recorded runs")
        } else {
            Output.out("  recent runs:")
            for h in history {
                Output.out("    run \(h.runID): \(h.outcome) (\(Output.seconds(h.durationMilliseconds))) — \(h.reason)")
            }
        }
        return 0
    }

    // MARK: - patch

    static func patch(_ args: Arguments) throws -> Int32 {
        guard args.positional.count == 1, let input = args.positional.first else {
            throw UsageError(message: "patch needs exactly one INPUT file")
        }
        guard !args.diffs.isEmpty else { throw UsageError(message: "patch needs at least one --diff FILE") }
        let result: PatchResult
        do {
            let text = try PatchStage.readText(input, name: input)
            result = try PatchStage.patch(
                text: text,
                inputName: input,
                diffs: args.diffs.map { ($0, $0) },
                fuzz: args.fuzz ?? 0,
                transforms: []
            )
        } catch let f as StageFailure {
            Output.err("contrast-pipe: \(f.message)")
            return 2
        }
        for note in result.notes { Output.err(note) }
        switch args.output {
        case "-":
            FileHandle.standardOutput.write(Data(result.text.utf8))
        case let out?:
            try FileSystem.writeAtomically(
                Array(result.text.utf8),
                to: Paths.resolve(out, against: Paths.currentDirectory)
            )
        case nil:
            let path = Paths.resolve(input, against: Paths.currentDirectory)
            try FileSystem.writeAtomically(Array(result.text.utf8), to: path, mode: FileSystem.mode(path))
        }
        return 0
    }

    // MARK: - generate

    static func generate(_ args: Arguments) async throws -> Int32 {
        guard let platform = args.referenceValues else {
            throw UsageError(message: "generate needs --reference-values PLATFORM")
        }
        guard !args.positional.isEmpty else { throw UsageError(message: "generate needs at least one PATH") }
        let files: [String]
        do { files = try FileSystem.yamlFiles(args.positional) } catch {
            guard case .io(let path, _, _) = error else { throw error }
            throw UsageError(message: "no such file or directory: \(path)")
        }
        let workspace = Paths.currentDirectory
        let manifest = args.manifest ?? "manifest.json"
        let temp = ".contrast-pipe-generate-\(getpid()).yml"
        var config = "inputs: [\(files.map { Canonical.quoteJSON($0) }.joined(separator: ", "))]\n"
        config +=
            "output: \(temp)\nmanifest: \(Canonical.quoteJSON(manifest))\nplatform: \(Canonical.quoteJSON(platform))\n"
        let keyDir = Paths.directory(of: manifest)
        config +=
            "workload-owner-key: \(Canonical.quoteJSON(keyDir == "." ? "workload-owner.pem" : keyDir + "/workload-owner.pem"))\n"
        config +=
            "seedshare-owner-key: \(Canonical.quoteJSON(keyDir == "." ? "seedshare-owner.pem" : keyDir + "/seedshare-owner.pem"))\n"
        if FileManager.default.fileExists(atPath: manifest) {
            config += "base-manifest: \(Canonical.quoteJSON(manifest))\n"
        }
        let node = try YAMLParser.parse(config, file: "<generate flags>")
        let stageConfig = StageConfig(stageName: "generate", node: node, source: nil, defaults: PipelineDefaults())
        let stage: GenerateStage
        do {
            try GenerateStage.schema.validate(node, context: "generate", source: nil)
            stage = try GenerateStage(config: stageConfig)
        } catch {
            throw UsageError(message: error.message)
        }
        try stage.createInputs(in: workspace)
        let store = try Store(path: nil)
        let context = StageContext(
            stageName: "generate",
            pipelineName: "generate",
            workspace: workspace,
            logPath: "/dev/null",
            upstream: [:],
            defaults: PipelineDefaults(),
            counters: RunCounters(),
            store: store,
            warn: { Output.err($0) }
        )
        defer { unlink(temp) }
        do {
            _ = try await stage.run(context)
            try context.flushMemos()
        } catch let f as StageFailure {
            Output.err("contrast-pipe: \(f.message)")
            return f.isInputError ? 2 : 1
        }
        let rendered = try KubeDocuments(yaml: try PatchStage.readText(temp, name: temp), file: temp)
        if let out = args.output {
            let text = try rendered.yaml()
            if out == "-" {
                FileHandle.standardOutput.write(Data(text.utf8))
            } else {
                try FileSystem.writeAtomically(Array(text.utf8), to: Paths.resolve(out, against: workspace))
            }
        } else {
            // In place, as contrast generate does: each file gets its own resources back, in order.
            var offset = 0
            for file in files {
                let count = try KubeDocuments(yaml: try PatchStage.readText(file, name: file), file: file).resources
                    .count
                let part = KubeDocuments(resources: Array(rendered.resources[offset..<(offset + count)]))
                offset += count
                try FileSystem.writeAtomically(Array(try part.yaml().utf8), to: Paths.resolve(file, against: workspace))
            }
        }
        Output.err("wrote \(manifest)")
        return 0
    }

    // MARK: - cache

    static func cache(_ args: Arguments) throws -> Int32 {
        let sub = args.command.dropFirst().first ?? ""
        let cacheDirectory: String
        if let dir = args.cacheDir {
            cacheDirectory = Paths.resolve(dir, against: Paths.currentDirectory)
        } else if args.fileGiven || FileManager.default.fileExists(atPath: args.file) {
            cacheDirectory = try loadPipeline(args).cacheDirectory
        } else {
            cacheDirectory = Paths.resolve("cache", against: Paths.currentDirectory)
        }
        switch sub {
        case "stats":
            let store = try openStore(cacheDirectory)
            let s = try store.stats()
            let hit: String
            if let r = s.lastRun {
                let total = r.ran + r.cached + r.restored + r.failed + r.skipped
                let rate = total == 0 ? 0 : Double(r.cached + r.restored) * 100 / Double(total)
                hit = String(format: "%.0f%%", rate) + " (\(r.cached) cached, \(r.restored) restored, \(r.ran) ran)"
            } else {
                hit = "no runs yet"
            }
            if args.json {
                JSONReporter.emit([
                    "blobs": s.blobs, "bytes": s.bytes, "actions": s.actions, "memos": s.memos, "runs": s.runs,
                    "last_run": s.lastRun.map { ["ran": $0.ran, "cached": $0.cached, "restored": $0.restored] } ?? [:],
                ])
            } else {
                Output.out("cache:    \(cacheDirectory)")
                Output.out("blobs:    \(s.blobs) (\(SizeParser.format(s.bytes)))")
                Output.out("actions:  \(s.actions)")
                Output.out("memo:     \(s.memos)")
                Output.out("runs:     \(s.runs)")
                Output.out("last run hit rate: \(hit)")
            }
            return 0
        case "verify":
            let store = try openStore(cacheDirectory)
            let r = try store.verify()
            for (digest, actual) in r.corrupt { Output.out("corrupt blob \(digest) (content hashes to \(actual))") }
            if r.integrity != "ok" { Output.out("database integrity: \(r.integrity)") }
            Output.out(
                r.ok ? "ok: \(r.checked) blobs verified" : "FAILED: \(r.corrupt.count) of \(r.checked) blobs corrupt"
            )
            return r.ok ? 0 : 1
        case "gc":
            guard let text = args.maxSize else { throw UsageError(message: "cache gc needs --max-size SIZE") }
            guard let max = SizeParser.parse(text) else { throw UsageError(message: "invalid size '\(text)'") }
            let lock = try CacheLock(cacheDirectory: cacheDirectory, wait: !args.noWait) { Output.err($0) }
            let store = try openStore(cacheDirectory)
            let r = try store.collectGarbage(maxBytes: max)
            try store.clearFingerprints()
            if r.removedBlobs > 0 { try store.vacuum() }
            withExtendedLifetime(lock) {}
            Output.out(
                "removed \(r.removedBlobs) blobs (\(SizeParser.format(r.removedBytes))), \(r.removedActions) action entries; "
                    + "store now \(SizeParser.format(r.after)) (was \(SizeParser.format(r.before)))"
            )
            return 0
        default:
            throw UsageError(
                message: sub.isEmpty
                    ? "cache needs a subcommand: stats, verify or gc" : "unknown cache subcommand '\(sub)'"
            )
        }
    }
}

/// Phase timings on stderr when `CONTRAST_PIPE_TRACE` is set (for performance work).
final class Trace {
    private var last = DispatchTime.now().uptimeNanoseconds
    private let enabled = ProcessInfo.processInfo.environment["CONTRAST_PIPE_TRACE"] != nil

    func mark(_ phase: String) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        Output.err("trace: \(phase): \(String(format: "%.2f", Double(now - last) / 1e6)) ms")
        last = now
    }
}
