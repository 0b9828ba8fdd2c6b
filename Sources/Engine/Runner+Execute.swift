import Crypto
import Foundation

extension Runner {
    /// Runs the targets (or the whole pipeline), reporting events as it goes.
    public func run() async throws -> RunReport {
        let start = DispatchTime.now()
        let runID = try store.beginRun(pipeline: pipeline.name)
        // Forget the no-op fingerprint until this run proves everything up to date again (a killed run must
        // not leave an old one behind).
        try store.setFingerprint(NoOpFingerprint.key(pipelineFile: pipeline.file), nil)
        let selected = graph.closure(of: options.targets)
        let selectedSet = Set(selected)
        var remaining: [String: Int] = [:]
        for name in selected {
            remaining[name] = (graph.dependencies[name] ?? []).filter { selectedSet.contains($0) }.count
        }
        for dir in Set(pipeline.stages.flatMap { $0.stage.outputs }.map { Paths.directory(of: $0) }) {
            FileSystem.removeStaleTemporaries(in: Paths.resolve(dir, against: pipeline.workspace))
        }
        var report = RunReport()
        var finished: [String: Finished] = [:]
        var ready = selected.filter { remaining[$0] == 0 }
        var stopped = false
        let jobs = max(1, options.jobs)

        await withTaskGroup(of: (String, Finished, String).self) { group in
            var running = 0
            while true {
                while running < jobs, !stopped, !ready.isEmpty {
                    let name = ready.removeFirst()
                    guard let ps = pipeline.stage(name) else { continue }
                    var upstream: [String: Finished] = [:]
                    for dep in ps.dependencies { upstream[dep] = finished[dep] }
                    group.addTask {
                        let (f, reason) = await self.execute(ps, upstream: upstream, runID: runID)
                        return (name, f, reason)
                    }
                    running += 1
                }
                guard let (name, result, reason) = await group.next() else { break }
                running -= 1
                finished[name] = result
                report.outcomes[name] = result.outcome
                report.reasons[name] = reason
                if result.inputError { report.inputErrors.insert(name) }
                if result.outcome == .failed {
                    if !options.keepGoing { stopped = true }
                    // Everything downstream of a failure is skipped.
                    var work = graph.dependents[name] ?? []
                    while let d = work.popLast() {
                        guard selectedSet.contains(d), report.outcomes[d] == nil else { continue }
                        report.outcomes[d] = .skipped
                        report.reasons[d] = "upstream \(name) failed"
                        reporter.report(
                            .finished(
                                stage: d,
                                outcome: .skipped,
                                reason: "upstream \(name) failed",
                                milliseconds: 0,
                                log: nil
                            )
                        )
                        work.append(contentsOf: graph.dependents[d] ?? [])
                    }
                    continue
                }
                for d in graph.dependents[name] ?? [] where selectedSet.contains(d) {
                    remaining[d, default: 0] -= 1
                    if remaining[d] == 0 && report.outcomes[d] == nil { ready.append(d) }
                }
            }
        }
        for name in selected where report.outcomes[name] == nil {
            report.outcomes[name] = .skipped
            report.reasons[name] = "not started: the run stopped after a failure"
            reporter.report(
                .finished(stage: name, outcome: .skipped, reason: report.reasons[name] ?? "", milliseconds: 0, log: nil)
            )
        }
        for (name, outcome) in report.outcomes where outcome == .skipped {
            try? store.recordStage(
                runID: runID,
                stage: name,
                history: StageHistory(
                    runID: runID,
                    outcome: "skipped",
                    reason: report.reasons[name] ?? "",
                    actionKey: nil,
                    durationMilliseconds: 0,
                    exitStatus: nil
                ),
                logDigest: nil
            )
        }
        try store.putFileStats(files.freshRecords)
        try recordFingerprint(report: report, finished: finished, selected: selected)
        counters.add("files.hashed", files.hashedCount)
        report.counters = counters.all
        report.milliseconds = Int((DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000)
        try store.finishRun(
            runID,
            summary: RunSummary(
                id: runID,
                ran: report.count(.ran),
                cached: report.count(.cached),
                restored: report.count(.restored),
                failed: report.count(.failed),
                skipped: report.count(.skipped),
                status: report.succeeded ? "ok" : "failed"
            )
        )
        // A run that wrote a lot checkpoints its own WAL now, instead of leaving the work to the next small run.
        try? store.checkpointIfLarge()
        return report
    }

    /// After a fully successful run of the whole pipeline, records the no-op fingerprint; otherwise forgets it.
    private func recordFingerprint(report: RunReport, finished: [String: Finished], selected: [String]) throws {
        let key = NoOpFingerprint.key(pipelineFile: pipeline.file)
        guard report.succeeded, options.targets.isEmpty, !pipeline.sourceDigest.isEmpty,
            selected.count == pipeline.stages.count
        else {
            return
        }
        var stats: [String: FileStat] = [:]
        for ps in pipeline.stages {
            let paths = ps.stage.inputs + (finished[ps.name]?.outputs.map(\.path) ?? [])
            for path in paths {
                let abs = Paths.resolve(path, against: pipeline.workspace)
                guard let stat = files.knownStat(abs) else {
                    return try store.setFingerprint(key, nil)
                }
                stats[abs] = stat
            }
        }
        try store.setFingerprint(
            key,
            NoOpFingerprint(
                pipelineDigest: pipeline.sourceDigest,
                tool: options.toolVersion,
                pipelineName: pipeline.name,
                stages: selected,
                files: stats
            )
        )
    }

    /// Reports and records a failed stage.
    private func failure(
        _ stage: String,
        _ reason: String,
        key: String?,
        log: String?,
        status: Int32?,
        milliseconds ms: Int,
        runID: Int64
    ) -> (Finished, String) {
        reporter.report(.finished(stage: stage, outcome: .failed, reason: reason, milliseconds: ms, log: log))
        try? store.recordStage(
            runID: runID,
            stage: stage,
            history: StageHistory(
                runID: runID,
                outcome: "failed",
                reason: reason,
                actionKey: key,
                durationMilliseconds: ms,
                exitStatus: status
            ),
            logDigest: nil
        )
        return (Finished(outcome: .failed, outputs: [], digest: ""), reason)
    }

    /// Decides and carries out one stage. Never throws: every problem becomes a failed outcome.
    private func execute(_ ps: PipelineStage, upstream: [String: Finished], runID: Int64) async -> (Finished, String) {
        let start = DispatchTime.now()
        func elapsed() -> Int { Int((DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000) }
        let effectKey: (Decision) -> String? = { ps.stage.sideEffectTarget == nil ? nil : $0.key }
        func fail(_ reason: String, key: String?, log: String?, status: Int32?) -> (Finished, String) {
            failure(ps.name, reason, key: key, log: log, status: status, milliseconds: elapsed(), runID: runID)
        }
        let decision: Decision
        do {
            decision = try decide(ps, upstream: upstream)
        } catch {
            return fail("\(error)", key: nil, log: nil, status: nil)
        }
        switch decision.action {
        case .blocked, .pending:
            return fail(decision.reason, key: nil, log: nil, status: nil)
        case .upToDate:
            guard let record = decision.cached, let key = decision.key, let fields = decision.fields else {
                return fail("internal: up-to-date without a record", key: nil, log: nil, status: nil)
            }
            updateState(ps.name, key: key, fields: fields)
            reporter.report(
                .finished(stage: ps.name, outcome: .cached, reason: decision.reason, milliseconds: 0, log: nil)
            )
            return (
                Finished(
                    outcome: .cached,
                    outputs: record.outputs,
                    digest: OutputsDigest.of(record.outputs, sideEffectKey: effectKey(decision))
                ),
                decision.reason
            )
        case .restore:
            guard let record = decision.cached, let key = decision.key, let fields = decision.fields else {
                return fail("internal: restore without a record", key: nil, log: nil, status: nil)
            }
            reporter.report(.started(stage: ps.name, reason: decision.reason))
            do {
                for output in decision.toRestore {
                    let bytes = try store.blob(output.digest)
                    let abs = Paths.resolve(output.path, against: pipeline.workspace)
                    try FileSystem.writeAtomically(bytes, to: abs, mode: output.mode)
                    files.record(path: abs, digest: output.digest)
                }
            } catch {
                // A corrupt or missing blob: fall through to running the stage.
                return await runStage(
                    ps,
                    decision: decision,
                    upstream: upstream,
                    runID: runID,
                    start: start,
                    note: "restore failed (\(error))"
                )
            }
            updateState(ps.name, key: key, fields: fields)
            let ms = elapsed()
            reporter.report(
                .finished(stage: ps.name, outcome: .restored, reason: decision.reason, milliseconds: ms, log: nil)
            )
            try? store.recordStage(
                runID: runID,
                stage: ps.name,
                history: StageHistory(
                    runID: runID,
                    outcome: "restored",
                    reason: decision.reason,
                    actionKey: key,
                    durationMilliseconds: ms,
                    exitStatus: 0
                ),
                logDigest: nil
            )
            return (
                Finished(
                    outcome: .restored,
                    outputs: record.outputs,
                    digest: OutputsDigest.of(record.outputs, sideEffectKey: effectKey(decision))
                ),
                decision.reason
            )
        case .run:
            return await runStage(ps, decision: decision, upstream: upstream, runID: runID, start: start, note: nil)
        }
    }

    private func updateState(_ name: String, key: String, fields: KeyFields) {
        if states[name]?.key != key {
            try? store.setStageState(pipeline: pipeline.name, stage: name, key: key, fields: fields)
        }
    }

    private func runStage(
        _ ps: PipelineStage,
        decision: Decision,
        upstream: [String: Finished],
        runID: Int64,
        start: DispatchTime,
        note: String?
    ) async -> (Finished, String) {
        let reason = ([note].compactMap { $0 } + decision.reasons).joined(separator: "; ")
        reporter.report(.started(stage: ps.name, reason: reason))
        func elapsed() -> Int { Int((DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1_000_000) }
        guard let key = decision.key, let fields = decision.fields else {
            return (Finished(outcome: .failed, outputs: [], digest: ""), "internal: no key")
        }
        let logDir = Paths.resolve("logs", against: pipeline.cacheDirectory)
        try? FileSystem.makeDirectories(logDir)
        let logPath = "\(logDir)/\(ps.name).\(getpid()).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        defer { unlink(logPath) }
        let context = StageContext(
            stageName: ps.name,
            pipelineName: pipeline.name,
            workspace: pipeline.workspace,
            logPath: logPath,
            upstream: upstream.mapValues(\.outputs),
            defaults: pipeline.defaults,
            counters: counters,
            store: store,
            files: files,
            warn: { [reporter] in reporter.report(.note($0)) }
        )
        // Declared outputs may live in directories that do not exist yet.
        for output in ps.stage.outputs {
            try? FileSystem.makeDirectories(Paths.directory(of: Paths.resolve(output, against: pipeline.workspace)))
        }
        counters.add("stage.executions")
        counters.add("stage.executions.\(ps.name)")
        var failure: String?
        var inputError = false
        var status: Int32 = 0
        var produced: [String] = ps.stage.outputs
        do {
            let result = try await ps.stage.run(context)
            try context.flushMemos()
            status = result.exitStatus
            if let outputs = result.outputs { produced = outputs }
        } catch let f as StageFailure {
            try? context.flushMemos()
            failure = f.message
            inputError = f.isInputError
            status = f.exitStatus ?? 1
        } catch {
            failure = "\(error)"
            status = 1
        }
        let log = (try? FileSystem.read(logPath)).map { String(decoding: $0, as: UTF8.self) }
        let ms = elapsed()
        func failed(_ message: String) -> (Finished, String) {
            self.failure(ps.name, message, key: key, log: log, status: status, milliseconds: ms, runID: runID)
        }
        if let failure {
            var result = failed(failure)
            result.0.inputError = inputError
            return result
        }
        // Collect outputs into the store (files the stage wrote through `writeOutput` come with their digest).
        let written = context.pendingMemos.written.withLock { $0 }
        var records: [OutputRecord] = []
        var blobs: [Store.BlobWrite] = []
        for path in Set(produced).sorted() {
            guard !path.contains("\n"), Paths.isContained(path) else {
                return failed("output path \(path.debugDescription) must be inside the workspace and hold no newline")
            }
            let abs = Paths.resolve(path, against: pipeline.workspace)
            guard let stat = FileSystem.fileStat(abs) else { return failed("declared output \(path) was not produced") }
            // A file the stage wrote through `writeOutput` (and has not changed in size since) comes with its bytes
            // and digest; anything else is read and hashed.
            let hint = written[path].flatMap { $0.bytes.count == Int(stat.size) ? $0 : nil }
            guard let bytes = hint?.bytes ?? (try? FileSystem.read(abs)) else {
                return failed("cannot read output \(path)")
            }
            let digest = hint?.digest ?? SHA256.hash(bytes).hex
            files.record(path: abs, digest: digest)
            records.append(OutputRecord(path: path, digest: digest, mode: FileSystem.mode(abs)))
            blobs.append(Store.BlobWrite(digest: digest, bytes: bytes, boundaries: hint?.boundaries ?? []))
        }
        var logDigest: String?
        if let log, !log.isEmpty {
            let bytes = Array(log.utf8)
            let d = SHA256.hash(bytes).hex
            blobs.append(Store.BlobWrite(digest: d, bytes: bytes))
            logDigest = d
        }
        do {
            try store.recordAction(
                ActionRecord(
                    key: key,
                    outputs: records,
                    exitStatus: status,
                    logDigest: logDigest,
                    durationMilliseconds: ms
                ),
                stageType: ps.typeName,
                blobs: blobs
            )
            if let target = ps.stage.sideEffectTarget {
                try store.setAppliedKey(pipeline: pipeline.name, stage: ps.name, target: target, key: key)
            }
            try store.setStageState(pipeline: pipeline.name, stage: ps.name, key: key, fields: fields)
            try store.recordStage(
                runID: runID,
                stage: ps.name,
                history: StageHistory(
                    runID: runID,
                    outcome: "ran",
                    reason: reason,
                    actionKey: key,
                    durationMilliseconds: ms,
                    exitStatus: status
                ),
                logDigest: logDigest
            )
        } catch {
            return failed("cannot record the result: \(error)")
        }
        reporter.report(.finished(stage: ps.name, outcome: .ran, reason: reason, milliseconds: ms, log: log))
        let effect = ps.stage.sideEffectTarget == nil ? nil : key
        return (
            Finished(outcome: .ran, outputs: records, digest: OutputsDigest.of(records, sideEffectKey: effect)), reason
        )
    }
}
