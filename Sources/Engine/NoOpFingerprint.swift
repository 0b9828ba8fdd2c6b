import Crypto
import Foundation
import YAML

/// The no-op fast path, in the spirit of ninja's log: after a fully successful run of the whole pipeline
/// the engine records the digest of the pipeline file, the contrast-pipe version, the stage names and the
/// stat (size, mtime, ctime, inode) of every input and output file. The next `run` or `check` with no
/// targets and no `--force` first compares those: when the pipeline file is byte-identical and every file's
/// stat is unchanged, no stage can be stale (every action key is built from exactly these inputs), so it
/// reports everything cached without building keys. Any difference falls back to the full decision.
public struct NoOpFingerprint: Sendable, Equatable {
    /// SHA-256 of the pipeline file bytes.
    public var pipelineDigest: String
    /// contrast-pipe version.
    public var tool: String
    /// The pipeline's name.
    public var pipelineName: String
    /// Stage names in topological order.
    public var stages: [String]
    /// Absolute path → stat.
    public var files: [String: FileStat]

    /// The store key for a pipeline file.
    public static func key(pipelineFile: String) -> String {
        "noop:" + Paths.resolve(pipelineFile, against: Paths.currentDirectory)
    }

    /// True when the pipeline file and every recorded file are unchanged.
    public func isCurrent(pipelineDigest: String, tool: String) -> Bool {
        guard pipelineDigest == self.pipelineDigest, tool == self.tool else { return false }
        for (path, stat) in files where FileSystem.fileStat(path) != stat {
            return false
        }
        return true
    }

    /// Text form: a header line, the pipeline name, the stage names, then one `size mtime ctime inode path` line per file.
    func encode() -> String {
        var out = "v1 \(pipelineDigest) \(tool)\n\(pipelineName)\n\(stages.joined(separator: " "))\n"
        for (path, s) in files.sorted(by: { $0.key < $1.key }) {
            out += "\(s.size) \(s.mtime) \(s.ctime) \(s.inode) \(path)\n"
        }
        return out
    }

    static func decode(_ text: String) -> NoOpFingerprint? {
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)[...]
        guard let header = lines.popFirst(), let name = lines.popFirst(), let names = lines.popFirst() else {
            return nil
        }
        let h = header.split(separator: UInt8(ascii: " "), maxSplits: 2)
        guard h.count == 3, String(decoding: h[0], as: UTF8.self) == "v1" else { return nil }
        var files: [String: FileStat] = [:]
        files.reserveCapacity(lines.count)
        for line in lines where !line.isEmpty {
            // size mtime ctime inode path
            var numbers: [Int64] = []
            numbers.reserveCapacity(4)
            var value: Int64 = 0
            var negative = false
            var index = line.startIndex
            while numbers.count < 4, index < line.endIndex {
                let c = line[index]
                if c == UInt8(ascii: " ") {
                    numbers.append(negative ? -value : value)
                    value = 0
                    negative = false
                } else if c == UInt8(ascii: "-") {
                    negative = true
                } else if c >= 48 && c <= 57 {
                    value = value &* 10 &+ Int64(c - 48)
                } else {
                    return nil
                }
                index = line.index(after: index)
            }
            guard numbers.count == 4, index < line.endIndex else { return nil }
            let path = String(decoding: line[index...], as: UTF8.self)
            files[path] = FileStat(size: numbers[0], mtime: numbers[1], ctime: numbers[2], inode: numbers[3])
        }
        return NoOpFingerprint(
            pipelineDigest: String(decoding: h[1], as: UTF8.self), tool: String(decoding: h[2], as: UTF8.self),
            pipelineName: String(decoding: name, as: UTF8.self),
            stages: names.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) },
            files: files)
    }
}

/// A stored fingerprint checked straight from its text: the no-op path stats every file without building
/// strings or dictionaries.
public struct StoredFingerprint: Sendable {
    let text: [UInt8]

    /// The decoded form.
    public var decoded: NoOpFingerprint? { NoOpFingerprint.decode(String(decoding: text, as: UTF8.self)) }

    /// The pipeline name and stage names (without decoding the file list).
    public var stages: (pipeline: String, stages: [String]) {
        let lines = text.split(separator: UInt8(ascii: "\n"), maxSplits: 3, omittingEmptySubsequences: false)
        guard lines.count >= 3 else { return ("", []) }
        return (
            String(decoding: lines[1], as: UTF8.self),
            lines[2].split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
        )
    }

    /// True when the header matches and every listed file has its recorded stat.
    public func isCurrent(pipelineDigest: String, tool: String) -> Bool {
        let lines = text.split(separator: UInt8(ascii: "\n"), maxSplits: 3, omittingEmptySubsequences: false)
        guard lines.count == 4, Array(lines[0]) == Array("v1 \(pipelineDigest) \(tool)".utf8) else { return false }
        var path = [CChar](repeating: 0, count: 4096)
        for line in lines[3].split(separator: UInt8(ascii: "\n")) {
            var numbers: (Int64, Int64, Int64, Int64) = (0, 0, 0, 0)
            var field = 0
            var value: Int64 = 0
            var negative = false
            var index = line.startIndex
            while field < 4, index < line.endIndex {
                let c = line[index]
                if c == UInt8(ascii: " ") {
                    let v = negative ? -value : value
                    switch field {
                    case 0: numbers.0 = v
                    case 1: numbers.1 = v
                    case 2: numbers.2 = v
                    default: numbers.3 = v
                    }
                    field += 1
                    value = 0
                    negative = false
                } else if c == UInt8(ascii: "-") {
                    negative = true
                } else {
                    value = value &* 10 &+ Int64(c &- 48)
                }
                index = line.index(after: index)
            }
            let length = line.endIndex - index
            guard field == 4, length > 0, length < path.count else { return false }
            var i = 0
            while index < line.endIndex {
                path[i] = CChar(bitPattern: line[index])
                i += 1
                index = line.index(after: index)
            }
            path[i] = 0
            let expected = FileStat(size: numbers.0, mtime: numbers.1, ctime: numbers.2, inode: numbers.3)
            guard FileSystem.fileStat(cString: path) == expected else { return false }
        }
        return true
    }
}

extension Store {
    /// The recorded fingerprint text for a key.
    public func storedFingerprint(_ key: String) throws(StoreError) -> StoredFingerprint? {
        try withDatabase { db in
            var bytes: [UInt8]?
            try db.query("SELECT CAST(value AS BLOB) FROM meta WHERE key=?", [.text(key)]) { bytes = $0.blob(0) }
            return bytes.map(StoredFingerprint.init)
        }
    }

    /// The recorded fingerprint for a key.
    public func fingerprint(_ key: String) throws(StoreError) -> NoOpFingerprint? {
        try withDatabase { db in
            var text: String?
            try db.query("SELECT value FROM meta WHERE key=?", [.text(key)]) { text = $0.text(0) }
            return text.flatMap(NoOpFingerprint.decode)
        }
    }

    /// Records (or, with nil, forgets) a fingerprint.
    public func setFingerprint(_ key: String, _ value: NoOpFingerprint?) throws(StoreError) {
        try withDatabase { db in
            if let value {
                try db.run("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", [.text(key), .text(value.encode())])
            } else {
                try db.run("DELETE FROM meta WHERE key=?", [.text(key)])
            }
        }
    }

    /// Forgets every fingerprint (after `cache gc`, which may drop action entries).
    public func clearFingerprints() throws(StoreError) {
        try withDatabase { db in try db.run("DELETE FROM meta WHERE key LIKE 'noop:%'") }
    }
}

extension PipelineLoader {
    /// Reads just enough of a pipeline file for the fast path: its bytes' digest, its text and its cache
    /// directory. Malformed files return nil and take the full path, which reports the error.
    public static func peek(path: String) -> (digest: String, text: String, cacheDirectory: String)? {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            return nil
        }
        let found: String?
        do {
            found = try YAMLParser.scalar(at: ["defaults", "cache"], in: text, file: path)
        } catch {
            return nil
        }
        let directory = Paths.directory(of: Paths.resolve(path, against: Paths.currentDirectory))
        let cache = found ?? PipelineDefaults().cache
        return (SHA256.hash(data).hex, text, Paths.resolve(cache, against: directory))
    }
}
