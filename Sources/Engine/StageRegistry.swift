/// The stage types a pipeline may use, by type key.
public struct StageRegistry: Sendable {
    /// Registered types by name.
    public private(set) var types: [String: any Stage.Type] = [:]

    /// An empty registry.
    public init() {}

    /// A registry holding `types`.
    public init(_ types: [any Stage.Type]) {
        for t in types { register(t) }
    }

    /// Adds a type (replacing one of the same name).
    public mutating func register(_ type: any Stage.Type) {
        types[type.typeName] = type
    }

    /// Registered type names, sorted.
    public var names: [String] { types.keys.sorted() }
}
