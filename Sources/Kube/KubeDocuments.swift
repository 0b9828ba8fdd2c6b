public import YAML

/// A multi-document Kubernetes YAML file: load, access resources, emit deterministically.
public struct KubeDocuments: Sendable, Equatable {
    /// The resources in file order (null documents are dropped).
    public var resources: [KubeResource]

    /// Creates a document set.
    public init(resources: [KubeResource]) {
        self.resources = resources
    }

    /// Parses YAML text; errors carry file:line:col.
    public init(yaml: String, file: String) throws(Diagnostic) {
        let docs = try YAMLParser.parseDocuments(yaml, file: file)
        resources = docs.filter { !$0.isNull }.map(KubeResource.init)
        for r in resources where r.node.pairs == nil {
            throw Diagnostic(
                location: r.node.location, message: "expected a Kubernetes object (a mapping), found \(r.node.kindDescription)",
                excerpt: nil)
        }
    }

    /// The YAML text: documents separated by `---`, keys in their original order.
    public func yaml() throws(Diagnostic) -> String {
        try YAMLEmitter.emit(documents: resources.map(\.node))
    }
}
