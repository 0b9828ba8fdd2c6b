import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One poll(2) thread per process that wakes tasks waiting for a socket to become readable or writable, so the
/// server never blocks a thread of the Swift concurrency pool (or of Dispatch) on socket I/O.
final class Reactor: Sendable {
    /// The process-wide reactor.
    static let shared = Reactor()

    enum Outcome: Sendable { case ready, timedOut, cancelled }

    private struct Waiter {
        var fd: Int32
        var events: Int16
        var deadline: ContinuousClock.Instant?
        var continuation: CheckedContinuation<Outcome, Never>
    }

    private struct State {
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())
    private let wakeRead: Int32
    private let wakeWrite: Int32

    private init() {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        wakeRead = fds[0]
        wakeWrite = fds[1]
        _ = fcntl(wakeRead, F_SETFL, fcntl(wakeRead, F_GETFL) | O_NONBLOCK)
        _ = fcntl(wakeWrite, F_SETFL, fcntl(wakeWrite, F_GETFL) | O_NONBLOCK)
        let thread = Thread { [self] in loop() }
        thread.name = "contrast-pipe reactor"
        thread.start()
    }

    /// Waits until `fd` is readable (or writable), the deadline passes, or `cancel(fd:)` is called.
    func wait(fd: Int32, write: Bool = false, deadline: ContinuousClock.Instant? = nil) async -> Outcome {
        await withCheckedContinuation { continuation in
            state.withLock { s in
                s.nextID += 1
                s.waiters[s.nextID] = Waiter(
                    fd: fd,
                    events: Int16(write ? POLLOUT : POLLIN),
                    deadline: deadline,
                    continuation: continuation
                )
            }
            wake()
        }
    }

    /// Resumes every waiter of `fd` with `.cancelled`.
    func cancel(fd: Int32) {
        let resumed = state.withLock { s in
            let ids = s.waiters.filter { $0.value.fd == fd }.map(\.key)
            return ids.compactMap { s.waiters.removeValue(forKey: $0)?.continuation }
        }
        for c in resumed { c.resume(returning: .cancelled) }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }

    private func loop() {
        while true {
            let (ids, pollfds, timeout) = state.withLock { s -> ([UInt64], [pollfd], Int32) in
                let now = ContinuousClock.now
                var ids: [UInt64] = []
                var fds: [pollfd] = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
                var nearest: Duration?
                for (id, w) in s.waiters {
                    ids.append(id)
                    fds.append(pollfd(fd: w.fd, events: w.events, revents: 0))
                    if let d = w.deadline {
                        let left = d - now
                        nearest = min(nearest ?? left, left)
                    }
                }
                let ms =
                    nearest.map {
                        max(
                            0,
                            Int32(
                                min(
                                    $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000
                                        + 1,
                                    60_000
                                )
                            )
                        )
                    } ?? -1
                return (ids, fds, ms)
            }
            var fds = pollfds
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno != EINTR { usleep(1000) }
            if fds[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 256)
                while Glibc.read(wakeRead, &drain, 256) > 0 {}
            }
            let now = ContinuousClock.now
            var ready: [(CheckedContinuation<Outcome, Never>, Outcome)] = []
            state.withLock { s in
                for (i, id) in ids.enumerated() {
                    guard let w = s.waiters[id] else { continue }
                    if fds[i + 1].revents != 0 {
                        s.waiters.removeValue(forKey: id)
                        ready.append((w.continuation, .ready))
                    } else if let d = w.deadline, d <= now {
                        s.waiters.removeValue(forKey: id)
                        ready.append((w.continuation, .timedOut))
                    }
                }
            }
            for (c, outcome) in ready { c.resume(returning: outcome) }
        }
    }
}
