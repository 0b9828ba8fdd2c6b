/// How a stage ended in a run (or would end, in a plan).
public enum StageOutcome: String, Sendable, Codable {
    /// Executed.
    case ran
    /// Up to date: outputs on disk match the cached action (or the side effect was already applied).
    case cached
    /// Up to date in the cache, outputs re-materialized from the store.
    case restored
    /// Executed and failed.
    case failed
    /// Not executed because an upstream stage failed or the run stopped.
    case skipped
}

/// Progress events emitted by the runner, in order per stage.
public enum RunEvent: Sendable {
    /// A stage started executing (or restoring).
    case started(stage: String, reason: String)
    /// A stage finished.
    case finished(stage: String, outcome: StageOutcome, reason: String, milliseconds: Int, log: String?)
    /// A non-fatal message (e.g. "waiting for the cache lock").
    case note(String)
}

/// Receives run events; called from the runner's tasks, so implementations must be thread-safe.
public protocol RunReporter: Sendable {
    /// Handles one event.
    func report(_ event: RunEvent)
}

/// A reporter that drops everything.
public struct SilentReporter: RunReporter {
    /// Creates one.
    public init() {}
    public func report(_ event: RunEvent) {}
}
