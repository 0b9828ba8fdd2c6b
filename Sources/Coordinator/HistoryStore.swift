import Crypto
import Foundation
import SQLite

/// The transition record: manifest hash ‖ previous transition hash (root = 32 zero bytes).
public struct Transition: Sendable, Equatable {
    /// SHA-256 of the manifest bytes.
    public var manifestHash: [UInt8]
    /// The transition this one follows.
    public var previous: [UInt8]

    /// The all-zero root.
    public static let root = [UInt8](repeating: 0, count: 32)

    /// The stored bytes.
    public var bytes: [UInt8] { manifestHash + previous }
    /// The transition hash (SHA-256 of the stored bytes).
    public var hash: [UInt8] { SHA256.hash(bytes).bytes }

    /// Creates a transition.
    public init(manifestHash: [UInt8], previous: [UInt8]) {
        self.manifestHash = manifestHash
        self.previous = previous
    }
}

/// Contrast's history model persisted in SQLite (contrast-formats.md §6.4): content-addressed `manifests/<hash>`,
/// `policies/<hash>`, `transitions/<hash>` entries and a signed `transitions/latest` pointer updated by compare-and-
/// swap. Reads verify content hashes. One owner of the database handle; callers serialize access.
public final class HistoryStore {
    private let db: Database

    /// Opens (creating) `path` (`:memory:` not supported: the history must survive restarts).
    public init(path: String) throws(CoordinatorError) {
        do {
            db = try Database(.path(path))
            try db.execute(
                """
                CREATE TABLE IF NOT EXISTS store (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
                """
            )
        } catch {
            throw CoordinatorError(.internal, "history store \(path): \(error)")
        }
    }

    private func wrap<T>(_ what: String, _ body: () throws -> T) throws(CoordinatorError) -> T {
        do { return try body() } catch let error as CoordinatorError { throw error } catch {
            throw CoordinatorError(.internal, "history store: \(what): \(error)")
        }
    }

    private func get(_ key: String) throws(CoordinatorError) -> [UInt8]? {
        try wrap("read \(key)") {
            var value: [UInt8]?
            try db.query("SELECT value FROM store WHERE key = ?", [.text(key)]) { value = $0.blob(0) ?? [] }
            return value
        }
    }

    /// Stores a content-addressed blob under `<kind>/<sha256>`; returns the hash.
    @discardableResult
    public func put(_ kind: String, _ value: [UInt8]) throws(CoordinatorError) -> [UInt8] {
        let hash = SHA256.hash(value)
        try wrap("write \(kind)") {
            try db.run(
                "INSERT OR IGNORE INTO store (key, value) VALUES (?, ?)",
                [.text("\(kind)/\(hash.hex)"), .blob(value)]
            )
        }
        return hash.bytes
    }

    /// Reads `<kind>/<hash>`, verifying the content hash.
    public func get(_ kind: String, hash: [UInt8]) throws(CoordinatorError) -> [UInt8]? {
        let hex = Digest(bytes: hash).hex
        guard let value = try get("\(kind)/\(hex)") else { return nil }
        guard SHA256.hash(value).hex == hex else {
            throw CoordinatorError(.internal, "history store: \(kind)/\(hex) is corrupt")
        }
        return value
    }

    /// Stores a transition; returns its hash.
    @discardableResult
    public func putTransition(_ t: Transition) throws(CoordinatorError) -> [UInt8] { try put("transitions", t.bytes) }

    /// Reads a transition.
    public func transition(_ hash: [UInt8]) throws(CoordinatorError) -> Transition? {
        guard let bytes = try get("transitions", hash: hash) else { return nil }
        guard bytes.count == 64 else { throw CoordinatorError(.internal, "history store: malformed transition") }
        return Transition(manifestHash: Array(bytes[0..<32]), previous: Array(bytes[32..<64]))
    }

    /// The signed latest pointer: transition hash ‖ signature; nil before the first manifest.
    public func latest() throws(CoordinatorError) -> (hash: [UInt8], signature: [UInt8])? {
        guard let bytes = try get("transitions/latest") else { return nil }
        guard bytes.count > 32 else { throw CoordinatorError(.internal, "history store: malformed latest pointer") }
        return (Array(bytes[0..<32]), Array(bytes[32...]))
    }

    /// Replaces the latest pointer only if it still equals `expected` (nil = no pointer yet). Runs the check and the
    /// write in one immediate transaction, so two writers cannot both succeed.
    public func compareAndSwapLatest(expected: [UInt8]?, new: [UInt8], signature: [UInt8]) throws(CoordinatorError) {
        try wrap("update latest") {
            try db.transaction {
                var current: [UInt8]?
                try db.query("SELECT value FROM store WHERE key = 'transitions/latest'") {
                    current = $0.blob(0).map { Array($0.prefix(32)) }
                }
                guard current == expected else {
                    throw CoordinatorError(.failedPrecondition, "latest transition changed concurrently")
                }
                try db.run(
                    "INSERT OR REPLACE INTO store (key, value) VALUES ('transitions/latest', ?)",
                    [.blob(new + signature)]
                )
            }
        }
    }

    /// A plain (not content-addressed) record, e.g. the root CA certificate.
    public func record(_ key: String) throws(CoordinatorError) -> [UInt8]? { try get("records/\(key)") }

    /// Stores a plain record.
    public func setRecord(_ key: String, _ value: [UInt8]) throws(CoordinatorError) {
        try wrap("write \(key)") {
            try db.run(
                "INSERT OR REPLACE INTO store (key, value) VALUES (?, ?)",
                [.text("records/\(key)"), .blob(value)]
            )
        }
    }

    /// The chain of transitions from the root to `hash`, oldest first.
    public func chain(to hash: [UInt8]) throws(CoordinatorError) -> [Transition] {
        var out: [Transition] = []
        var current = hash
        var seen = Set<[UInt8]>()
        while current != Transition.root {
            guard seen.insert(current).inserted else {
                throw CoordinatorError(.internal, "history store: transition cycle")
            }
            guard let t = try transition(current) else {
                throw CoordinatorError(.internal, "history store: missing transition \(Digest(bytes: current).hex)")
            }
            out.append(t)
            current = t.previous
        }
        return out.reversed()
    }

    /// Number of stored entries (for tests comparing state before and after a refused request).
    public func entryCount() throws(CoordinatorError) -> Int {
        try wrap("count") {
            var n = 0
            try db.query("SELECT count(*) FROM store") { n = Int($0.int(0)) }
            return n
        }
    }
}
