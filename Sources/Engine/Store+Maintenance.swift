import Crypto
import Foundation
import SQLite

/// Figures reported by `cache stats`.
public struct CacheStats: Sendable {
    /// Number of blobs and their total size.
    public var blobs: Int, bytes: Int64
    /// Number of action cache entries and memo entries.
    public var actions: Int, memos: Int
    /// Number of recorded runs.
    public var runs: Int
    /// The last finished run, for its hit rate.
    public var lastRun: RunSummary?
}

/// What `cache verify` found.
public struct VerifyReport: Sendable {
    /// Blobs checked.
    public var checked: Int
    /// Blobs whose content does not match their digest: (digest, actual).
    public var corrupt: [(String, String)]
    /// Actions or memos referring to blobs that are gone (harmless: they count as cache misses).
    public var dangling: Int
    /// SQLite's own consistency check result ("ok" when sound).
    public var integrity: String

    /// True when nothing is corrupt.
    public var ok: Bool { corrupt.isEmpty && integrity == "ok" }
}

/// What `cache gc` did.
public struct GCReport: Sendable {
    /// Blobs and bytes removed.
    public var removedBlobs: Int, removedBytes: Int64
    /// Size before and after.
    public var before: Int64, after: Int64
    /// Action entries dropped because their outputs were collected.
    public var removedActions: Int
}

extension Store {
    /// Counts for `cache stats`.
    public func stats() throws(StoreError) -> CacheStats {
        let last = try lastRun()
        return try withDatabase { db in
            var s = CacheStats(blobs: 0, bytes: 0, actions: 0, memos: 0, runs: 0, lastRun: last)
            try db.query("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs") {
                s.blobs = Int($0.int(0))
                s.bytes = $0.int(1)
            }
            try db.query("SELECT COUNT(*) FROM actions") { s.actions = Int($0.int(0)) }
            try db.query("SELECT COUNT(*) FROM memo") { s.memos = Int($0.int(0)) }
            try db.query("SELECT COUNT(*) FROM runs") { s.runs = Int($0.int(0)) }
            return s
        }
    }

    /// Re-hashes every blob and runs SQLite's integrity check.
    public func verify() throws(StoreError) -> VerifyReport {
        try withDatabase { db in
            var report = VerifyReport(checked: 0, corrupt: [], dangling: 0, integrity: "")
            var lines: [String] = []
            try db.query("PRAGMA integrity_check") { lines.append($0.text(0) ?? "") }
            report.integrity = lines.joined(separator: "; ")
            var lists: [(String, [String])] = []
            try db.query("SELECT digest, data FROM blobs ORDER BY digest") { row in
                let digest = row.text(0) ?? ""
                let data = row.blob(1) ?? []
                let actual = SHA256.hash(data).hex
                report.checked += 1
                if actual != digest {
                    if let chunks = Store.chunkList(data) {
                        lists.append((digest, chunks))
                    } else {
                        report.corrupt.append((digest, actual))
                    }
                }
            }
            // Chunked blobs: the reassembled content must have the digest they are stored under.
            for (digest, chunks) in lists {
                let whole = try Store.assemble(db, chunks: chunks)
                let actual = whole.map { SHA256.hash($0).hex } ?? "missing chunks"
                if actual != digest { report.corrupt.append((digest, actual)) }
            }
            try db.query(
                "SELECT COUNT(*) FROM memo WHERE digest NOT IN (SELECT digest FROM blobs)"
            ) { report.dangling += Int($0.int(0)) }
            return report
        }
    }

    /// Shrinks the blob table below `maxBytes`: first blobs that no latest stage state, applied side effect
    /// or memo entry needs (least recently used first), then the rest, oldest first. Action entries whose
    /// outputs are gone are dropped too.
    public func collectGarbage(maxBytes: Int64) throws(StoreError) -> GCReport {
        try withDatabase { db in
            try db.transaction {
                var total: Int64 = 0
                try db.query("SELECT COALESCE(SUM(size), 0) FROM blobs") { total = $0.int(0) }
                var report = GCReport(removedBlobs: 0, removedBytes: 0, before: total, after: total, removedActions: 0)
                guard total > maxBytes else { return report }
                // Digests referenced by the latest action of every stage.
                var live = Set<String>()
                var latestKeys: [String] = []
                try db.query("SELECT action_key FROM stage_state") { if let k = $0.text(0) { latestKeys.append(k) } }
                for key in latestKeys {
                    try db.query("SELECT outputs, log_digest FROM actions WHERE key=?", [.text(key)]) { row in
                        if let text = row.text(0), let outputs = OutputRecord.decode(text) {
                            for o in outputs { live.insert(o.digest) }
                        }
                        if let log = row.text(1) { live.insert(log) }
                    }
                }
                live.formUnion(try Store.chunksOf(db, live))
                var candidates: [(digest: String, size: Int64, live: Bool)] = []
                try db.query("SELECT digest, size FROM blobs ORDER BY last_used ASC, digest ASC") { row in
                    let d = row.text(0) ?? ""
                    candidates.append((d, row.int(1), live.contains(d)))
                }
                let ordered = candidates.filter { !$0.live } + candidates.filter(\.live)
                for c in ordered where total > maxBytes {
                    try db.run("DELETE FROM blobs WHERE digest=?", [.text(c.digest)])
                    total -= c.size
                    report.removedBlobs += 1
                    report.removedBytes += c.size
                }
                report.after = total
                // Drop actions and memos that now point at missing blobs.
                var actionKeys: [(String, String)] = []
                try db.query("SELECT key, outputs FROM actions") { row in
                    actionKeys.append((row.text(0) ?? "", row.text(1) ?? ""))
                }
                for (key, text) in actionKeys {
                    let outputs = OutputRecord.decode(text) ?? []
                    var missing = false
                    for o in outputs {
                        var present = false
                        try db.query("SELECT 1 FROM blobs WHERE digest=?", [.text(o.digest)]) { _ in present = true }
                        if !present { missing = true }
                    }
                    if missing {
                        try db.run("DELETE FROM actions WHERE key=?", [.text(key)])
                        report.removedActions += 1
                    }
                }
                try db.run("DELETE FROM memo WHERE digest NOT IN (SELECT digest FROM blobs)")
                return report
            }
        }
    }

    /// Checkpoints (and truncates) the write-ahead log when it has grown past `bytes` (default 4 MiB, SQLite's
    /// own automatic threshold): the run that wrote the data pays for moving it into the database.
    public func checkpointIfLarge(bytes: Int64 = 4 * 1024 * 1024) throws(StoreError) {
        guard path != ":memory:", let stat = FileSystem.fileStat(path + "-wal"), stat.size > bytes else { return }
        try withDatabase { db in try db.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Reclaims file space after a collection.
    public func vacuum() throws(StoreError) {
        try withDatabase { db in
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            try db.execute("VACUUM")
        }
    }
}
