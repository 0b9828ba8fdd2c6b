import Crypto
import SQLite

/// Chunked blobs: a large output is stored as content-defined chunks (each an ordinary blob) plus a small list
/// row under the whole output's digest, so a run that changes one part of a large file writes one chunk, not the
/// whole file, and every version of the file shares its unchanged chunks. A list row's data is the magic line and
/// one chunk digest per line; its own SHA-256 never equals the digest it is stored under, which tells the two kinds
/// of rows apart. Reads reassemble the chunks and verify the whole digest.
extension Store {
    static let chunkMagic = Array("contrast-pipe chunked blob v1\n".utf8)

    /// Calls `body` with batches of at most 400 keys and the matching `?,?,…` placeholder list, for `IN (…)` clauses
    /// that stay below SQLite's bound-parameter limit.
    static func inBatches(_ keys: [String], _ body: (_ keys: ArraySlice<String>, _ placeholders: String) throws -> Void)
        rethrows
    {
        var start = 0
        while start < keys.count {
            let part = keys[start..<min(start + 400, keys.count)]
            start += part.count
            try body(part, Array(repeating: "?", count: part.count).joined(separator: ","))
        }
    }

    /// A blob to store whole or as chunks.
    public struct BlobWrite: Sendable {
        /// Digest of the whole content.
        public var digest: String
        /// The whole content.
        public var bytes: [UInt8]
        /// Chunk end offsets (ascending, the last one = bytes.count); empty = store whole.
        public var boundaries: [Int]

        /// Creates a write.
        public init(digest: String, bytes: [UInt8], boundaries: [Int] = []) {
            self.digest = digest
            self.bytes = bytes
            self.boundaries = boundaries
        }
    }

    static func insert(_ db: Database, _ write: BlobWrite) throws {
        guard write.boundaries.count > 1, write.boundaries.last == write.bytes.count else {
            try insertBlob(db, digest: write.digest, bytes: write.bytes)
            return
        }
        var present = false
        try db.query("SELECT 1 FROM blobs WHERE digest=?", [.text(write.digest)]) { _ in present = true }
        if present { return }
        var start = 0
        var digests: [String] = []
        for end in write.boundaries where end > start {
            let chunk = Array(write.bytes[start..<end])
            let d = SHA256.hash(chunk).hex
            digests.append(d)
            try insertBlob(db, digest: d, bytes: chunk)
            start = end
        }
        // Chunks shared with earlier versions stay as recently used as the new version.
        try inBatches(digests) { part, marks in
            try db.run(
                "UPDATE blobs SET last_used=? WHERE digest IN (\(marks))",
                [.integer(now())] + part.map { .text($0) }
            )
        }
        let list = chunkMagic + Array(digests.joined(separator: "\n").utf8)
        try db.run(
            "INSERT OR IGNORE INTO blobs(digest, size, data, last_used) VALUES(?, ?, ?, ?)",
            [.text(write.digest), .integer(Int64(list.count)), .blob(list), .integer(now())]
        )
    }

    /// The chunk digests of a list row's data, or nil when the data is not a chunk list.
    static func chunkList(_ data: [UInt8]) -> [String]? {
        guard data.count > chunkMagic.count, data.starts(with: chunkMagic) else { return nil }
        return String(decoding: data[chunkMagic.count...], as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Reassembles a chunked blob (each chunk verified); nil when a chunk is missing or corrupt.
    static func assemble(_ db: Database, chunks: [String]) throws -> [UInt8]? {
        var found: [String: [UInt8]] = [:]
        try inBatches(Array(Set(chunks))) { part, marks in
            try db.query("SELECT digest, data FROM blobs WHERE digest IN (\(marks))", part.map { .text($0) }) { row in
                if let d = row.text(0), let data = row.blob(1) { found[d] = data }
            }
        }
        var out: [UInt8] = []
        for d in chunks {
            guard let data = found[d], SHA256.hash(data).hex == d else { return nil }
            out += data
        }
        return out
    }

    /// Digests of the chunks of every chunked blob among `digests` (for garbage collection's live set).
    static func chunksOf(_ db: Database, _ digests: Set<String>) throws -> Set<String> {
        var out = Set<String>()
        try db.query(
            "SELECT digest, data FROM blobs WHERE size < 1048576 AND substr(data, 1, ?) = ?",
            [
                .integer(Int64(chunkMagic.count)), .blob(chunkMagic),
            ]
        ) { row in
            guard let d = row.text(0), digests.contains(d), let list = chunkList(row.blob(1) ?? []) else { return }
            out.formUnion(list)
        }
        return out
    }
}
