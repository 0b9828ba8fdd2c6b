import Dispatch
import Foundation
import Synchronization

/// A task executor with its own threads. `HTTPServer` runs its connection tasks and handlers here, so a process
/// whose concurrency-pool threads are busy or blocked (a pipeline run, a test runner) still serves requests — the
/// server cannot be starved by its host.
public final class ServerExecutor: TaskExecutor, Sendable {
    /// The process-wide server executor: one thread per core (at least two).
    public static let shared = ServerExecutor(threads: max(2, ProcessInfo.processInfo.activeProcessorCount))

    private struct Queue {
        var jobs: [UnownedJob] = []
        var head = 0
    }

    private let queue = Mutex(Queue())
    private let available = DispatchSemaphore(value: 0)

    /// Starts `threads` worker threads.
    public init(threads: Int) {
        for i in 0..<threads {
            let thread = Thread { [self] in work() }
            thread.name = "contrast-pipe server \(i)"
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.withLock { $0.jobs.append(unowned) }
        available.signal()
    }

    private func work() {
        while true {
            available.wait()
            let job: UnownedJob? = queue.withLock { q in
                guard q.head < q.jobs.count else { return nil }
                let job = q.jobs[q.head]
                q.head += 1
                if q.head > 1024 && q.head * 2 > q.jobs.count {
                    q.jobs.removeFirst(q.head)
                    q.head = 0
                }
                return job
            }
            job?.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
