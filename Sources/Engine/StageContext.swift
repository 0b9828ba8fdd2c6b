import Crypto
import Foundation
import Synchronization

/// Counters a run exposes for tests and `--json` summaries.
public final class RunCounters: Sendable {
    private let values = Mutex<[String: Int]>([:])

    /// Creates zeroed counters.
    public init() {}

    /// Adds `n` to a counter.
    public func add(_ name: String, _ n: Int = 1) {
        values.withLock { $0[name, default: 0] += n }
    }

    /// A counter's value.
    public func value(_ name: String) -> Int { values.withLock { $0[name] ?? 0 } }

    /// All counters.
    public var all: [String: Int] { values.withLock { $0 } }
}

/// What a stage sees while it runs: its workspace, its upstream outputs, its log, and a memo store.
public struct StageContext: Sendable {
    /// The stage's name.
    public let stageName: String
    /// The pipeline's name.
    public let pipelineName: String
    /// Absolute workspace directory; stage paths are relative to it.
    public let workspace: String
    /// Absolute path of this attempt's log file (process output goes here).
    public let logPath: String
    /// Outputs of upstream stages, by stage name.
    public let upstream: [String: [OutputRecord]]
    /// Pipeline defaults.
    public let defaults: PipelineDefaults
    /// Run counters (memo hits/misses etc.).
    public let counters: RunCounters
    let store: Store
    let warnHandler: @Sendable (String) -> Void
    /// Memo entries computed during this stage run, written to the store in one transaction by `flushMemos`.
    let pendingMemos = MemoBuffer()
    let files: FileDigests?

    /// Creates a context (the runner does this; tests may too).
    public init(
        stageName: String,
        pipelineName: String,
        workspace: String,
        logPath: String,
        upstream: [String: [OutputRecord]],
        defaults: PipelineDefaults,
        counters: RunCounters,
        store: Store,
        files: FileDigests? = nil,
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.files = files
        self.stageName = stageName
        self.pipelineName = pipelineName
        self.workspace = workspace
        self.logPath = logPath
        self.upstream = upstream
        self.defaults = defaults
        self.counters = counters
        self.store = store
        self.warnHandler = warn
    }

    /// Shows a warning to the user (and writes it to the log).
    public func warn(_ message: String) {
        log("warning: \(message)")
        warnHandler("warning: stage \(stageName): \(message)")
    }

    /// A blob from the content-addressed store, verified; nil when absent or corrupt.
    public func cachedBlob(sha256 digest: String) -> [UInt8]? {
        try? store.blob(digest)
    }

    /// Puts bytes into the content-addressed store and returns their SHA-256 (hex).
    @discardableResult
    public func storeBlob(_ bytes: [UInt8]) throws -> String {
        try store.putBlob(bytes)
    }

    /// The absolute path of a workspace-relative path.
    public func path(_ relative: String) -> String {
        Paths.resolve(relative, against: workspace)
    }

    /// Appends a line to the stage log.
    public func log(_ line: String) {
        guard let handle = FileHandle(forWritingAtPath: logPath) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Returns the memoized result for `key` (any list of strings that determines the result, typically
    /// digests), computing and storing it on a miss. Counts `memo.hit` / `memo.miss` and `<namespace>.hit`
    /// / `<namespace>.miss`. Never memoize secrets: the store is not private.
    public func memoized(
        namespace: String,
        key: [String],
        compute: () async throws -> [UInt8]
    ) async throws -> [UInt8] {
        let memoKey = Self.memoKey(namespace: namespace, key: key)
        var stored = pendingMemos.prefetch(memoKey)
        if stored == nil, pendingMemos.get(memoKey) == nil, let digest = try store.memo(memoKey),
            let bytes = try? store.blob(digest)
        {
            stored = bytes
            pendingMemos.used(memoKey)
        }
        if let bytes = pendingMemos.get(memoKey) ?? stored {
            counters.add("memo.hit")
            counters.add("\(namespace).hit")
            return bytes
        }
        counters.add("memo.miss")
        counters.add("\(namespace).miss")
        let bytes = try await compute()
        pendingMemos.put(memoKey, bytes)
        return bytes
    }

    static func memoKey(namespace: String, key: [String]) -> String {
        var b = ActionKeyBuilder(domain: "contrast-pipe/memo/v1")
        b.add(namespace)
        for k in key { b.add(k) }
        return b.finish()
    }

    /// The memoized result for `key`, if any (no compute, no counters).
    public func memo(namespace: String, key: [String]) throws -> [UInt8]? {
        let memoKey = Self.memoKey(namespace: namespace, key: key)
        if let bytes = pendingMemos.get(memoKey) ?? pendingMemos.prefetch(memoKey) { return bytes }
        guard let digest = try store.memo(memoKey), let bytes = try? store.blob(digest) else { return nil }
        pendingMemos.used(memoKey)
        return bytes
    }

    /// Stores a result for `key` (written with the stage's other memo entries when it returns).
    public func setMemo(namespace: String, key: [String], _ bytes: [UInt8]) {
        pendingMemos.put(Self.memoKey(namespace: namespace, key: key), bytes)
    }

    /// The SHA-256 (hex) of a workspace file, answered from the engine's stat cache when the file is unchanged since
    /// it was last hashed; nil when the file does not exist.
    public func fileDigest(_ relative: String) throws -> String? {
        let abs = path(relative)
        if let files { return try files.digest(of: abs) }
        guard FileSystem.fileStat(abs) != nil else { return nil }
        return try FileSystem.sha256(abs).hex
    }

    /// Writes an output atomically and tells the engine its digest (so the engine does not hash it again) and,
    /// optionally, content-defined chunk boundaries (ascending end offsets): the store then keeps the file as chunks
    /// shared between versions, so a small change to a large output stores a small chunk.
    public func writeOutput(_ bytes: [UInt8], to relative: String, digest: String? = nil, chunkBoundaries: [Int] = [])
        throws
    {
        let d = digest ?? SHA256.hash(bytes).hex
        try FileSystem.writeAtomically(bytes, to: path(relative))
        pendingMemos.written.withLock {
            $0[relative] = WrittenOutput(digest: d, bytes: bytes, boundaries: chunkBoundaries)
        }
    }

    /// Loads the stored results for many keys with a few queries, so that the `memoized` calls that follow
    /// are answered from memory (a stage with thousands of sub-results calls this first).
    public func prefetchMemos(namespace: String, keys: [[String]]) throws {
        let memoKeys = keys.map { Self.memoKey(namespace: namespace, key: $0) }
        for (key, (_, bytes)) in try store.memos(memoKeys) {
            pendingMemos.prefetched(key, bytes)
            pendingMemos.used(key)
        }
    }

    /// Writes the memo entries computed so far (the runner calls this when the stage returns).
    public func flushMemos() throws {
        let entries = pendingMemos.drain()
        if !entries.isEmpty { try store.putMemos(entries) }
        try store.touchMemos(pendingMemos.drainUsed())
    }
}

/// An output a stage wrote through `writeOutput`.
struct WrittenOutput: Sendable {
    var digest: String
    var bytes: [UInt8]
    var boundaries: [Int]
}

/// Memo results waiting to be written.
final class MemoBuffer: Sendable {
    /// Digests of outputs the stage wrote and hashed itself (path → digest), so the engine does not hash them again.
    let written = Mutex<[String: WrittenOutput]>([:])
    private let entries = Mutex<[String: [UInt8]]>([:])
    private let hits = Mutex<[String]>([])
    private let loaded = Mutex<[String: [UInt8]]>([:])

    func prefetched(_ key: String, _ bytes: [UInt8]) { loaded.withLock { $0[key] = bytes } }
    func prefetch(_ key: String) -> [UInt8]? { loaded.withLock { $0[key] } }

    func used(_ key: String) { hits.withLock { $0.append(key) } }
    func drainUsed() -> [String] {
        hits.withLock { h in
            let out = h
            h = []
            return out
        }
    }

    func get(_ key: String) -> [UInt8]? { entries.withLock { $0[key] } }
    func put(_ key: String, _ bytes: [UInt8]) { entries.withLock { $0[key] = bytes } }
    func drain() -> [(String, [UInt8])] {
        entries.withLock { e in
            let out = e.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            e = [:]
            return out
        }
    }
}
