import Crypto
import Synchronization

/// File digests with the stat fast path: a file whose size, mtime, ctime and inode match the record made when
/// it was last hashed is not read again. Digests never depend on timestamps; stat only decides whether to
/// re-hash. New records are collected and written back to the store at the end of a run.
public final class FileDigests: Sendable {
    private struct State {
        var known: [String: (FileStat, String)]
        var fresh: [String: (FileStat, String)] = [:]
        var hashed = 0
        /// Paths whose stat was checked (or written) during this run.
        var seen = Set<String>()
    }

    private let state: Mutex<State>

    /// Starts from the records in the store.
    public init(records: [String: (FileStat, String)]) {
        state = Mutex(State(known: records))
    }

    /// The digest (hex) of the file at an absolute path, or nil when it does not exist.
    public func digest(of path: String) throws(FileError) -> String? {
        guard let stat = FileSystem.fileStat(path) else { return nil }
        let cached: String? = state.withLock { s in
            guard let known = s.known[path], known.0 == stat else { return nil }
            s.seen.insert(path)
            return known.1
        }
        if let cached { return cached }
        let digest = try FileSystem.sha256(path).hex
        // Re-stat: a file changed while hashing must not be recorded under the earlier stat.
        if let after = FileSystem.fileStat(path), after == stat {
            state.withLock {
                $0.known[path] = (stat, digest)
                $0.fresh[path] = (stat, digest)
                $0.seen.insert(path)
                $0.hashed += 1
            }
        }
        return digest
    }

    /// Records a digest for a file the engine just wrote (so it is not re-hashed).
    public func record(path: String, digest: String) {
        guard let stat = FileSystem.fileStat(path) else { return }
        state.withLock {
            $0.known[path] = (stat, digest)
            $0.fresh[path] = (stat, digest)
            $0.seen.insert(path)
        }
    }

    /// The stat recorded with a file's digest, if the file was checked or written during this run.
    public func knownStat(_ path: String) -> FileStat? {
        state.withLock { $0.seen.contains(path) ? $0.known[path]?.0 : nil }
    }

    /// Records made since creation (to persist).
    public var freshRecords: [String: (FileStat, String)] { state.withLock { $0.fresh } }

    /// How many files were actually read and hashed.
    public var hashedCount: Int { state.withLock { $0.hashed } }
}
