/// What the engine decided (or would decide) for one stage, and why.
public struct Decision: Sendable {
    /// What to do.
    public enum Action: String, Sendable {
        /// Nothing: outputs match the cache.
        case upToDate = "up-to-date"
        /// Re-materialize outputs from the store.
        case restore
        /// Execute the stage.
        case run
        /// Cannot tell before an upstream stage runs (plan only).
        case pending
        /// Cannot run (a declared input is missing, ...).
        case blocked
    }

    /// The stage.
    public var stage: String
    /// The action.
    public var action: Action
    /// Human-readable reasons, most specific first.
    public var reasons: [String]
    /// The action key when it could be computed.
    public var key: String?
    /// The key's fields when computed.
    public var fields: KeyFields?
    /// The cached record that satisfies the stage (for up-to-date / restore).
    public var cached: ActionRecord?
    /// Outputs that must be restored (restore only).
    public var toRestore: [OutputRecord] = []

    /// The reasons joined for one-line display.
    public var reason: String { reasons.joined(separator: "; ") }
}
