import Crypto
import Foundation
public import SQLite
import Synchronization

/// Errors of the content-addressed store.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case sqlite(SQLiteError, path: String)
    case corruptBlob(digest: String, actual: String)
    case missingBlob(digest: String)
    case incompatibleSchema(found: String, path: String)

    public var description: String {
        switch self {
        case .sqlite(let e, let path): "cache store \(path): \(e)"
        case .corruptBlob(let d, let a): "cache blob \(d) is corrupt (its content hashes to \(a))"
        case .missingBlob(let d): "cache blob \(d) is missing"
        case .incompatibleSchema(let found, let path):
            "cache store \(path) has schema \(found); this contrast-pipe needs \(Store.schemaVersion) (delete the cache directory)"
        }
    }
}

/// One output file recorded for an action.
public struct OutputRecord: Codable, Sendable, Equatable {
    /// Workspace-relative path.
    public var path: String
    /// SHA-256 of the content, hex.
    public var digest: String
    /// POSIX permission bits.
    public var mode: UInt32

    /// Creates a record.
    public init(path: String, digest: String, mode: UInt32) {
        self.path = path
        self.digest = digest
        self.mode = mode
    }

    /// The stored text form: one `MODE DIGEST PATH` line per output (octal mode; paths never hold newlines).
    /// Cheaper to read than JSON on the no-op path, where every stage's record is read.
    static func encode(_ records: [OutputRecord]) -> String {
        records.map { String($0.mode, radix: 8) + " " + $0.digest + " " + $0.path + "\n" }.joined()
    }

    /// Parses the stored text form; nil when malformed.
    static func decode(_ text: String) -> [OutputRecord]? {
        var out: [OutputRecord] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let mode = UInt32(parts[0], radix: 8), parts[1].utf8.count == 64 else { return nil }
            out.append(OutputRecord(path: String(parts[2]), digest: String(parts[1]), mode: mode))
        }
        return out
    }
}

/// A cached action result.
public struct ActionRecord: Sendable, Equatable {
    /// The action key (hex).
    public var key: String
    /// Outputs, sorted by path.
    public var outputs: [OutputRecord]
    /// The stage's exit status.
    public var exitStatus: Int32
    /// Digest of the captured log, if any.
    public var logDigest: String?
    /// How long the action took.
    public var durationMilliseconds: Int
}

/// The SQLite-backed store under the cache directory: content-addressed blobs (verified on read), the action
/// cache, per-stage state used by `plan`/`explain`, side-effect records, memoized sub-results, file stat
/// records and the run history. One owner of the connection, serialized by a `Mutex`.
public final class Store: Sendable {
    /// Version of the table layout.
    public static let schemaVersion = 2

    private let db: Mutex<Database>
    /// Path of the database file (or `:memory:`).
    public let path: String

    /// Opens or creates the store database at `path` (nil: an in-memory store for tests).
    public init(path: String?) throws(StoreError) {
        self.path = path ?? ":memory:"
        let database: Database
        var version: Int64 = 0
        do {
            database = try Database(path.map { .path($0) } ?? .memory)
            // The table layout version lives in PRAGMA user_version; the DDL runs only for a new store.
            try database.query("PRAGMA user_version") { version = $0.int(0) }
            if version == 0 {
                try database.transaction {
                    var current: Int64 = 0
                    try database.query("PRAGMA user_version") { current = $0.int(0) }
                    if current == 0 {
                        try database.execute(Store.schema)
                        try database.execute("PRAGMA user_version = \(Store.schemaVersion)")
                    }
                }
                try database.query("PRAGMA user_version") { version = $0.int(0) }
            }
        } catch let e as SQLiteError {
            throw .sqlite(e, path: path ?? ":memory:")
        } catch {
            throw .sqlite(SQLiteError(code: 1, message: "\(error)", sql: nil), path: path ?? ":memory:")
        }
        if version != Int64(Store.schemaVersion) {
            throw .incompatibleSchema(found: String(version), path: self.path)
        }
        self.db = Mutex(database)
    }

    private static let schema = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS blobs(
            digest TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL, last_used INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS actions(
            key TEXT PRIMARY KEY, stage_type TEXT NOT NULL, outputs TEXT NOT NULL, exit_status INTEGER NOT NULL,
            log_digest TEXT, duration_ms INTEGER NOT NULL, created INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS stage_state(
            pipeline TEXT NOT NULL, stage TEXT NOT NULL, action_key TEXT NOT NULL, fields TEXT NOT NULL,
            updated INTEGER NOT NULL, PRIMARY KEY(pipeline, stage));
        CREATE TABLE IF NOT EXISTS side_effects(
            pipeline TEXT NOT NULL, stage TEXT NOT NULL, target TEXT NOT NULL, action_key TEXT NOT NULL,
            applied INTEGER NOT NULL, PRIMARY KEY(pipeline, stage, target));
        CREATE TABLE IF NOT EXISTS files(
            path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
            inode INTEGER NOT NULL, digest TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS memo(key TEXT PRIMARY KEY, digest TEXT NOT NULL, last_used INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS runs(
            id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL, started INTEGER NOT NULL,
            finished INTEGER, status TEXT NOT NULL, ran INTEGER NOT NULL DEFAULT 0,
            cached INTEGER NOT NULL DEFAULT 0, restored INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS run_stages(
            run_id INTEGER NOT NULL, stage TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL,
            action_key TEXT, duration_ms INTEGER NOT NULL, exit_status INTEGER, log_digest TEXT);
        CREATE INDEX IF NOT EXISTS run_stages_by_stage ON run_stages(stage, run_id);
        """

    /// Runs `body` with the connection, mapping SQLite errors to `StoreError`.
    func withDatabase<T: Sendable>(_ body: (inout sending Database) throws -> sending T) throws(StoreError) -> T {
        do {
            return try db.withLock { try body(&$0) }
        } catch let e as StoreError {
            throw e
        } catch let e as SQLiteError {
            throw .sqlite(e, path: path)
        } catch {
            throw .sqlite(SQLiteError(code: 1, message: "\(error)", sql: nil), path: path)
        }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: - Blobs

    /// Stores `bytes` under their SHA-256 and returns the digest (hex).
    @discardableResult
    public func putBlob(_ bytes: [UInt8]) throws(StoreError) -> String {
        let digest = SHA256.hash(bytes).hex
        try withDatabase { db in try Store.insertBlob(db, digest: digest, bytes: bytes) }
        return digest
    }

    static func insertBlob(_ db: Database, digest: String, bytes: [UInt8]) throws {
        try db.run(
            "INSERT OR IGNORE INTO blobs(digest, size, data, last_used) VALUES(?, ?, ?, ?)",
            [.text(digest), .integer(Int64(bytes.count)), .blob(bytes), .integer(now())]
        )
    }

    /// True when the blob is present (not verified).
    public func hasBlob(_ digest: String) throws(StoreError) -> Bool {
        try withDatabase { db in
            var found = false
            try db.query("SELECT 1 FROM blobs WHERE digest=?", [.text(digest)]) { _ in found = true }
            return found
        }
    }

    /// Reads a blob and verifies its content against the digest.
    public func blob(_ digest: String) throws(StoreError) -> [UInt8] {
        let data: [UInt8]? = try withDatabase { db in
            var data: [UInt8]?
            try db.query("SELECT data FROM blobs WHERE digest=?", [.text(digest)]) { data = $0.blob(0) }
            guard let stored = data, SHA256.hash(stored).hex != digest, let chunks = Store.chunkList(stored) else {
                return data
            }
            return try Store.assemble(db, chunks: chunks) ?? stored
        }
        guard let data else { throw .missingBlob(digest: digest) }
        let actual = SHA256.hash(data).hex
        guard actual == digest else { throw .corruptBlob(digest: digest, actual: actual) }
        return data
    }

    // MARK: - Actions

    /// Looks up an action by key; entries whose output blobs are gone count as misses.
    public func action(_ key: String) throws(StoreError) -> ActionRecord? {
        try withDatabase { db in
            var record: ActionRecord?
            try db.query(
                "SELECT outputs, exit_status, log_digest, duration_ms FROM actions WHERE key=?",
                [.text(key)]
            ) { row in
                let outputs = OutputRecord.decode(row.text(0) ?? "")
                guard let outputs else { return }
                record = ActionRecord(
                    key: key,
                    outputs: outputs,
                    exitStatus: Int32(truncatingIfNeeded: row.int(1)),
                    logDigest: row.text(2),
                    durationMilliseconds: Int(row.int(3))
                )
            }
            guard let found = record else { return nil }
            for output in found.outputs {
                var present = false
                try db.query("SELECT 1 FROM blobs WHERE digest=?", [.text(output.digest)]) { _ in present = true }
                if !present { return nil }
            }
            return found
        }
    }

    /// Records an action result together with the output blobs and log, in one transaction.
    public func recordAction(
        _ record: ActionRecord,
        stageType: String,
        blobs: [BlobWrite]
    ) throws(StoreError) {
        let json = OutputRecord.encode(record.outputs)
        try withDatabase { db in
            try db.transaction {
                for b in blobs { try Store.insert(db, b) }
                try db.run(
                    """
                    INSERT OR REPLACE INTO actions(key, stage_type, outputs, exit_status, log_digest, duration_ms, created)
                    VALUES(?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(record.key), .text(stageType), .text(json), .integer(Int64(record.exitStatus)),
                        record.logDigest.map { .text($0) } ?? .null, .integer(Int64(record.durationMilliseconds)),
                        .integer(Store.now()),
                    ]
                )
            }
        }
    }

    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain Codable structs of strings and integers cannot fail.
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    // MARK: - Memo

    /// Looks up a memoized sub-result digest.
    public func memo(_ key: String) throws(StoreError) -> String? {
        try withDatabase { db in
            var digest: String?
            try db.query("SELECT digest FROM memo WHERE key=?", [.text(key)]) { digest = $0.text(0) }
            return digest
        }
    }

    /// Marks memo entries as used now, in one transaction. (The small memo rows are touched, not the blob rows:
    /// rewriting thousands of blob rows would rewrite their data pages too.)
    public func touchMemos(_ keys: [String]) throws(StoreError) {
        guard !keys.isEmpty else { return }
        let now = Store.now()
        try withDatabase { db in
            try db.transaction {
                try Store.inBatches(keys) { part, marks in
                    try db.run(
                        "UPDATE memo SET last_used=? WHERE key IN (\(marks))",
                        [.integer(now)] + part.map { .text($0) }
                    )
                }
            }
        }
    }

    /// Looks up many memo keys at once: key → (digest, verified bytes); absent or corrupt entries are left out.
    public func memos(_ keys: [String]) throws(StoreError) -> [String: (String, [UInt8])] {
        var found: [String: (String, [UInt8])] = [:]
        try withDatabase { db in
            try db.transaction {
                try Store.inBatches(keys) { part, marks in
                    try db.query(
                        "SELECT m.key, m.digest, b.data FROM memo m JOIN blobs b ON b.digest = m.digest WHERE m.key IN (\(marks))",
                        part.map { .text($0) }
                    ) { row in
                        guard let key = row.text(0), let digest = row.text(1), let data = row.blob(2) else { return }
                        found[key] = (digest, data)
                    }
                }
                // Verify; a memo value that is also a large output may be stored as chunks: reassemble it.
                for (key, (digest, data)) in found where SHA256.hash(data).hex != digest {
                    if let chunks = Store.chunkList(data), let whole = try Store.assemble(db, chunks: chunks),
                        SHA256.hash(whole).hex == digest
                    {
                        found[key] = (digest, whole)
                    } else {
                        found.removeValue(forKey: key)
                    }
                }
            }
        }
        return found
    }

    /// Stores many memoized sub-results in one transaction.
    public func putMemos(_ entries: [(String, [UInt8])]) throws(StoreError) {
        try withDatabase { db in
            try db.transaction {
                for (key, bytes) in entries {
                    let digest = SHA256.hash(bytes).hex
                    try Store.insertBlob(db, digest: digest, bytes: bytes)
                    try db.run(
                        "INSERT OR REPLACE INTO memo(key, digest, last_used) VALUES(?, ?, ?)",
                        [.text(key), .text(digest), .integer(Store.now())]
                    )
                }
            }
        }
    }

    /// Stores a memoized sub-result.
    public func putMemo(_ key: String, bytes: [UInt8]) throws(StoreError) {
        let digest = SHA256.hash(bytes).hex
        try withDatabase { db in
            try db.transaction {
                try Store.insertBlob(db, digest: digest, bytes: bytes)
                try db.run(
                    "INSERT OR REPLACE INTO memo(key, digest, last_used) VALUES(?, ?, ?)",
                    [.text(key), .text(digest), .integer(Store.now())]
                )
            }
        }
    }
}
