import Foundation
import SQLite

/// The parts an action key was computed from, kept per stage so that `plan` and `explain` can say what
/// changed ("input X changed", "config changed", ...).
public struct KeyFields: Codable, Sendable, Equatable {
    /// Stage type name.
    public var type: String
    /// Stage implementation version.
    public var version: Int
    /// contrast-pipe version.
    public var tool: String
    /// Digest of the canonical configuration.
    public var config: String
    /// Input path → digest.
    public var inputs: [String: String]
    /// Upstream stage → digest of its outputs.
    public var upstream: [String: String]

    /// Creates key fields.
    public init(
        type: String,
        version: Int,
        tool: String,
        config: String,
        inputs: [String: String],
        upstream: [String: String]
    ) {
        self.type = type
        self.version = version
        self.tool = tool
        self.config = config
        self.inputs = inputs
        self.upstream = upstream
    }
}

extension KeyFields {
    /// Decodes the stored JSON form.
    public static func decode(_ text: String) -> KeyFields? {
        try? JSONDecoder().decode(KeyFields.self, from: Data(text.utf8))
    }
}

/// A file's identity as seen by stat, recorded with its digest (the stat fast path).
public struct FileStat: Sendable, Equatable {
    /// Size in bytes.
    public var size: Int64
    /// Modification time, nanoseconds.
    public var mtime: Int64
    /// Status change time, nanoseconds.
    public var ctime: Int64
    /// Inode number.
    public var inode: Int64
}

/// One row of the run history.
public struct RunSummary: Sendable {
    /// Run id.
    public var id: Int64
    /// ran / cached / restored / failed / skipped counts.
    public var ran: Int, cached: Int, restored: Int, failed: Int, skipped: Int
    /// "ok", "failed" or "running" (a run that was killed stays "running").
    public var status: String

    /// Creates a summary.
    public init(id: Int64, ran: Int, cached: Int, restored: Int, failed: Int, skipped: Int, status: String) {
        self.id = id
        self.ran = ran
        self.cached = cached
        self.restored = restored
        self.failed = failed
        self.skipped = skipped
        self.status = status
    }
}

/// A stage's entry in the run history.
public struct StageHistory: Sendable {
    /// Run id.
    public var runID: Int64
    /// ran, restored, failed…
    public var outcome: String
    /// Why.
    public var reason: String
    /// The action key.
    public var actionKey: String?
    /// How long it took.
    public var durationMilliseconds: Int
    /// Exit status.
    public var exitStatus: Int32?
}

extension Store {
    // MARK: - Stage state

    /// The latest key and key fields of a stage.
    public func stageState(pipeline: String, stage: String) throws(StoreError) -> (key: String, fields: KeyFields)? {
        try withDatabase { db in
            var result: (String, KeyFields)?
            try db.query(
                "SELECT action_key, fields FROM stage_state WHERE pipeline=? AND stage=?",
                [.text(pipeline), .text(stage)]
            ) { row in
                if let key = row.text(0), let text = row.text(1),
                    let fields = try? JSONDecoder().decode(KeyFields.self, from: Data(text.utf8))
                {
                    result = (key, fields)
                }
            }
            return result
        }
    }

    /// All stage states of a pipeline, by stage name, with the key fields still encoded (decode them with
    /// `KeyFields.decode` only when a reason is needed: the no-op path reads every stage's state).
    public func stageStates(pipeline: String) throws(StoreError) -> [String: (key: String, fields: String)] {
        try withDatabase { db in
            var result: [String: (key: String, fields: String)] = [:]
            try db.query("SELECT stage, action_key, fields FROM stage_state WHERE pipeline=?", [.text(pipeline)]) {
                row in
                if let stage = row.text(0), let key = row.text(1), let text = row.text(2) {
                    result[stage] = (key, text)
                }
            }
            return result
        }
    }

    /// The action records of every stage's latest key (one query; the no-op path needs all of them).
    public func latestActions(pipeline: String) throws(StoreError) -> [String: ActionRecord] {
        try withDatabase { db in
            var out: [String: ActionRecord] = [:]
            try db.query(
                """
                SELECT a.key, a.outputs, a.exit_status, a.log_digest, a.duration_ms
                FROM stage_state s JOIN actions a ON a.key = s.action_key WHERE s.pipeline = ?
                """,
                [.text(pipeline)]
            ) { row in
                guard let key = row.text(0), let outputs = OutputRecord.decode(row.text(1) ?? "") else { return }
                out[key] = ActionRecord(
                    key: key, outputs: outputs, exitStatus: Int32(truncatingIfNeeded: row.int(2)),
                    logDigest: row.text(3), durationMilliseconds: Int(row.int(4)))
            }
            return out
        }
    }

    /// Every applied side-effect key of a pipeline, by "stage\u{0}target".
    public func appliedKeys(pipeline: String) throws(StoreError) -> [String: String] {
        try withDatabase { db in
            var out: [String: String] = [:]
            try db.query("SELECT stage, target, action_key FROM side_effects WHERE pipeline=?", [.text(pipeline)]) {
                row in
                out["\(row.text(0) ?? "")\u{0}\(row.text(1) ?? "")"] = row.text(2)
            }
            return out
        }
    }

    /// Records the stage's current key.
    public func setStageState(pipeline: String, stage: String, key: String, fields: KeyFields) throws(StoreError) {
        let json = Store.encode(fields)
        try withDatabase { db in
            try db.run(
                "INSERT OR REPLACE INTO stage_state(pipeline, stage, action_key, fields, updated) VALUES(?,?,?,?,?)",
                [.text(pipeline), .text(stage), .text(key), .text(json), .integer(Store.now())])
        }
    }

    // MARK: - Side effects

    /// The last key successfully applied by a side-effect stage to its target.
    public func appliedKey(pipeline: String, stage: String, target: String) throws(StoreError) -> String? {
        try withDatabase { db in
            var key: String?
            try db.query(
                "SELECT action_key FROM side_effects WHERE pipeline=? AND stage=? AND target=?",
                [.text(pipeline), .text(stage), .text(target)]
            ) { key = $0.text(0) }
            return key
        }
    }

    /// Records a successful side effect.
    public func setAppliedKey(pipeline: String, stage: String, target: String, key: String) throws(StoreError) {
        try withDatabase { db in
            try db.run(
                "INSERT OR REPLACE INTO side_effects(pipeline, stage, target, action_key, applied) VALUES(?,?,?,?,?)",
                [.text(pipeline), .text(stage), .text(target), .text(key), .integer(Store.now())])
        }
    }

    // MARK: - File stats

    /// Every recorded file stat, by absolute path.
    public func fileStats() throws(StoreError) -> [String: (FileStat, String)] {
        try withDatabase { db in
            var out: [String: (FileStat, String)] = [:]
            try db.query("SELECT path, size, mtime_ns, ctime_ns, inode, digest FROM files") { row in
                if let path = row.text(0), let digest = row.text(5) {
                    out[path] = (FileStat(size: row.int(1), mtime: row.int(2), ctime: row.int(3), inode: row.int(4)), digest)
                }
            }
            return out
        }
    }

    /// Records file stats (one transaction).
    public func putFileStats(_ stats: [String: (FileStat, String)]) throws(StoreError) {
        guard !stats.isEmpty else { return }
        try withDatabase { db in
            try db.transaction {
                for (path, (stat, digest)) in stats.sorted(by: { $0.key < $1.key }) {
                    try db.run(
                        "INSERT OR REPLACE INTO files(path, size, mtime_ns, ctime_ns, inode, digest) VALUES(?,?,?,?,?,?)",
                        [
                            .text(path), .integer(stat.size), .integer(stat.mtime), .integer(stat.ctime),
                            .integer(stat.inode), .text(digest),
                        ])
                }
            }
        }
    }

    // MARK: - Run history

    /// Starts a run record.
    public func beginRun(pipeline: String) throws(StoreError) -> Int64 {
        try withDatabase { db in
            try db.run(
                "INSERT INTO runs(pipeline, started, status) VALUES(?, ?, 'running')",
                [.text(pipeline), .integer(Store.now())])
            var id: Int64 = 0
            try db.query("SELECT last_insert_rowid()") { id = $0.int(0) }
            return id
        }
    }

    /// Records one stage's outcome in the run history.
    public func recordStage(runID: Int64, stage: String, history: StageHistory, logDigest: String?) throws(StoreError) {
        try withDatabase { db in
            try db.run(
                """
                INSERT INTO run_stages(run_id, stage, outcome, reason, action_key, duration_ms, exit_status, log_digest)
                VALUES(?,?,?,?,?,?,?,?)
                """,
                [
                    .integer(runID), .text(stage), .text(history.outcome), .text(history.reason),
                    history.actionKey.map { .text($0) } ?? .null, .integer(Int64(history.durationMilliseconds)),
                    history.exitStatus.map { .integer(Int64($0)) } ?? .null, logDigest.map { .text($0) } ?? .null,
                ])
        }
    }

    /// Records a whole run at once (the no-op fast path).
    public func recordRun(pipeline: String, summary: RunSummary) throws(StoreError) {
        try withDatabase { db in
            try db.run(
                """
                INSERT INTO runs(pipeline, started, finished, status, ran, cached, restored, failed, skipped)
                VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(pipeline), .integer(Store.now()), .integer(Store.now()), .text(summary.status),
                    .integer(Int64(summary.ran)), .integer(Int64(summary.cached)), .integer(Int64(summary.restored)),
                    .integer(Int64(summary.failed)), .integer(Int64(summary.skipped)),
                ])
        }
    }

    /// Closes a run record with its counts.
    public func finishRun(_ id: Int64, summary: RunSummary) throws(StoreError) {
        try withDatabase { db in
            try db.run(
                "UPDATE runs SET finished=?, status=?, ran=?, cached=?, restored=?, failed=?, skipped=? WHERE id=?",
                [
                    .integer(Store.now()), .text(summary.status), .integer(Int64(summary.ran)),
                    .integer(Int64(summary.cached)), .integer(Int64(summary.restored)),
                    .integer(Int64(summary.failed)), .integer(Int64(summary.skipped)), .integer(id),
                ])
        }
    }

    /// The most recent finished run, if any.
    public func lastRun() throws(StoreError) -> RunSummary? {
        try withDatabase { db in
            var run: RunSummary?
            try db.query(
                "SELECT id, ran, cached, restored, failed, skipped, status FROM runs WHERE finished IS NOT NULL ORDER BY id DESC LIMIT 1"
            ) { row in
                run = RunSummary(
                    id: row.int(0), ran: Int(row.int(1)), cached: Int(row.int(2)), restored: Int(row.int(3)),
                    failed: Int(row.int(4)), skipped: Int(row.int(5)), status: row.text(6) ?? "")
            }
            return run
        }
    }

    /// The latest history entries of a stage, newest first.
    public func history(pipeline: String, stage: String, limit: Int = 5) throws(StoreError) -> [StageHistory] {
        try withDatabase { db in
            var out: [StageHistory] = []
            try db.query(
                """
                SELECT s.run_id, s.outcome, s.reason, s.action_key, s.duration_ms, s.exit_status
                FROM run_stages s JOIN runs r ON s.run_id = r.id
                WHERE r.pipeline=? AND s.stage=? ORDER BY s.run_id DESC, s.rowid DESC LIMIT ?
                """,
                [.text(pipeline), .text(stage), .integer(Int64(limit))]
            ) { row in
                out.append(
                    StageHistory(
                        runID: row.int(0), outcome: row.text(1) ?? "", reason: row.text(2) ?? "",
                        actionKey: row.text(3), durationMilliseconds: Int(row.int(4)),
                        exitStatus: row.isNull(5) ? nil : Int32(truncatingIfNeeded: row.int(5))))
            }
            return out
        }
    }
}
