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
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard let header = lines.popFirst(), let name = lines.popFirst(), let names = lines.popFirst() else {
            return nil
        }
        let h = header.split(separator: " ", maxSplits: 2)
        guard h.count == 3, h[0] == "v1" else { return nil }
        var files: [String: FileStat] = [:]
        files.reserveCapacity(lines.count)
        for line in lines where !line.isEmpty {
            let p = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
            guard p.count == 5, let size = Int64(p[0]), let m = Int64(p[1]), let c = Int64(p[2]), let i = Int64(p[3])
            else { return nil }
            files[String(p[4])] = FileStat(size: size, mtime: m, ctime: c, inode: i)
        }
        return NoOpFingerprint(
            pipelineDigest: String(h[1]), tool: String(h[2]), pipelineName: String(name), stages: names.split(separator: " ").map(String.init),
            files: files)
    }
}

extension Store {
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
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
            let root = try? YAMLParser.parse(text, file: path)
        else { return nil }
        let directory = Paths.directory(of: Paths.resolve(path, against: Paths.currentDirectory))
        let cache = root["defaults"]?["cache"]?.scalar ?? PipelineDefaults().cache
        return (SHA256.hash(data).hex, text, Paths.resolve(cache, against: directory))
    }
}
