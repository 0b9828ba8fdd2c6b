import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive advisory lock (flock) on `<cache>/lock`, held for the whole of a run so that two runs on the
/// same cache never interleave. The kernel releases it when the process dies, also on `kill -9`.
public final class CacheLock: Sendable {
    private let fd: Int32
    /// The lock file.
    public let path: String

    /// Takes the lock. When it is busy: with `wait` false throws `EngineError.lockBusy`, else calls `onWait`
    /// once and blocks until the other run finishes.
    public init(cacheDirectory: String, wait: Bool, onWait: (String) -> Void) throws {
        try FileSystem.makeDirectories(cacheDirectory)
        path = cacheDirectory + "/lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError.io(path: path, operation: "open", errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK else {
            let e = errno
            close(fd)
            throw FileError.io(path: path, operation: "lock", errno: e)
        }
        guard wait else {
            close(fd)
            throw EngineError.lockBusy(path: path)
        }
        onWait("waiting for another contrast-pipe run to release the cache lock (\(path))...")
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let e = errno
                close(fd)
                throw FileError.io(path: path, operation: "lock", errno: e)
            }
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
