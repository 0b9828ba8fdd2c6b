public import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Errors touching workspace files.
public enum FileError: Error, CustomStringConvertible, Sendable {
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .io(let path, let op, let e): "\(op) \(path): \(String(cString: strerror(e)))"
        }
    }
}

/// POSIX file helpers: stat, streaming SHA-256, atomic writes.
public enum FileSystem {
    /// stat(2) of a regular file, nil when missing (or not a regular file).
    public static func fileStat(_ path: String) -> FileStat? {
        path.withCString { fileStat(cString: $0) }
    }

    /// stat(2) of a regular file given a NUL-terminated path.
    public static func fileStat(cString path: UnsafePointer<CChar>) -> FileStat? {
        var st = Glibc.stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileStat(
            size: Int64(st.st_size),
            mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
            ctime: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec),
            inode: Int64(bitPattern: UInt64(st.st_ino))
        )
    }

    /// Permission bits of a file (0o644 when unknown).
    public static func mode(_ path: String) -> UInt32 {
        var st = Glibc.stat()
        guard stat(path, &st) == 0 else { return 0o644 }
        return UInt32(st.st_mode) & 0o7777
    }

    /// Streams a file through SHA-256.
    public static func sha256(_ path: String) throws(FileError) -> Digest {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        // Context allocation only fails when out of memory.
        guard let hasher = try? Hasher(.sha256) else { throw .io(path: path, operation: "hash", errno: ENOMEM) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finalize()
    }

    /// Reads a whole file.
    public static func read(_ path: String) throws(FileError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io(path: path, operation: "read", errno: errno == 0 ? ENOENT : errno)
        }
        return [UInt8](data)
    }

    /// The YAML files (`*.yml`, `*.yaml`) named by `paths`: files as given, directories searched recursively (sorted).
    public static func yamlFiles(_ paths: [String]) throws(FileError) -> [String] {
        var out: [String] = []
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw .io(path: path, operation: "find", errno: ENOENT)
            }
            guard isDir.boolValue else {
                out.append(path)
                continue
            }
            let entries = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
            out += entries.filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted().map { "\(path)/\($0)" }
        }
        return out
    }

    /// Creates a directory and its parents.
    public static func makeDirectories(_ path: String) throws(FileError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .io(path: path, operation: "mkdir", errno: EACCES)
        }
    }

    /// Writes `bytes` to `path` atomically: a temp file in the same directory, then rename(2). A reader (or a
    /// crash) sees the old content or the new, never a mix. Parent directories are created.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: UInt32 = 0o644) throws(FileError) {
        let dir = Paths.directory(of: path)
        try makeDirectories(dir)
        let base = path.split(separator: "/").last.map(String.init) ?? "out"
        let temp = "\(dir)/.\(base).cp-tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(0o600))
        guard fd >= 0 else { throw .io(path: temp, operation: "create", errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd)
                throw .io(path: temp, operation: "write", errno: e)
            }
            offset += n
        }
        fchmod(fd, mode_t(mode))
        close(fd)
        guard rename(temp, path) == 0 else { throw .io(path: path, operation: "rename", errno: errno) }
        ok = true
    }

    /// Removes temp files left in `dir` by an interrupted atomic write (non-recursive).
    public static func removeStaleTemporaries(in dir: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for n in names where n.hasPrefix(".") && n.contains(".cp-tmp-") {
            unlink("\(dir)/\(n)")
        }
    }
}
