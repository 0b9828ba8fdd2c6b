public import YAML

/// One Kubernetes object (a YAML document) with typed access to the parts contrast-pipe reads and mutates.
public struct KubeResource: Sendable, Equatable {
    /// The document.
    public var node: YAMLNode

    /// Wraps a document.
    public init(_ node: YAMLNode) {
        self.node = node
    }

    /// `apiVersion`.
    public var apiVersion: String { node["apiVersion"]?.scalar ?? "" }
    /// `kind`.
    public var kind: String { node["kind"]?.scalar ?? "" }
    /// `metadata.name`.
    public var name: String { node["metadata"]?["name"]?.scalar ?? "" }
    /// `metadata.namespace`, nil when unset.
    public var namespace: String? { node["metadata"]?["namespace"]?.scalar }
    /// `metadata.labels`.
    public var labels: [String: String] {
        var out: [String: String] = [:]
        for p in node["metadata"]?["labels"]?.pairs ?? [] {
            if let k = p.key.scalar, let v = p.value.scalar { out[k] = v }
        }
        return out
    }

    /// "Kind/name" (with namespace when set) for messages.
    public var displayName: String {
        namespace.map { "\(kind)/\($0)/\(name)" } ?? "\(kind)/\(name)"
    }

    /// The API group ("core" for the legacy group) and version.
    public var groupVersion: (group: String, version: String) {
        let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : ("core", parts.first ?? "")
    }

    /// The path from the object to its pod template (`metadata` + `spec`), by kind; nil for kinds without
    /// pods. A Pod is its own template.
    public static func podTemplatePath(kind: String) -> [String]? {
        switch kind {
        case "Pod": []
        case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController":
            ["spec", "template"]
        case "CronJob": ["spec", "jobTemplate", "spec", "template"]
        default: nil
        }
    }

    /// True for kinds that carry a pod spec.
    public var hasPodSpec: Bool { Self.podTemplatePath(kind: kind) != nil && podTemplate?["spec"] != nil }

    /// The pod template (a mapping with `metadata` and `spec`), when the kind has one.
    public var podTemplate: YAMLNode? {
        get {
            guard let path = Self.podTemplatePath(kind: kind) else { return nil }
            return node.value(at: path)
        }
        set {
            guard let path = Self.podTemplatePath(kind: kind), let newValue else { return }
            node.setValue(newValue, at: path)
        }
    }

    /// The pod spec.
    public var podSpec: YAMLNode? { podTemplate?["spec"] }

    /// The pod template's annotations.
    public var podAnnotations: [String: String] {
        var out: [String: String] = [:]
        for p in podTemplate?["metadata"]?["annotations"]?.pairs ?? [] {
            if let k = p.key.scalar, let v = p.value.scalar { out[k] = v }
        }
        return out
    }

    /// Runs `body` on the pod template (creating `metadata` if absent) and writes it back.
    public mutating func modifyPodTemplate<E: Error>(_ body: (inout YAMLNode) throws(E) -> Void) throws(E) {
        guard var template = podTemplate else { return }
        if template["metadata"] == nil, case .mapping(var pairs, let style) = template.content {
            // Kubernetes writes metadata before spec; keep that order for a created metadata block.
            pairs.insert(YAMLPair(key: .string("metadata"), value: YAMLNode(.mapping([], .block))), at: 0)
            template.content = .mapping(pairs, style)
        }
        try body(&template)
        podTemplate = template
    }
}

extension YAMLNode {
    /// The node at a path of mapping keys.
    public func value(at path: [String]) -> YAMLNode? {
        var current: YAMLNode? = self
        for key in path { current = current?[key] }
        return current
    }

    /// Sets the node at a path of mapping keys, creating intermediate mappings.
    public mutating func setValue(_ value: YAMLNode, at path: [String]) {
        guard let first = path.first else {
            self = value
            return
        }
        var child = self[first] ?? YAMLNode(.mapping([], .block))
        child.setValue(value, at: Array(path.dropFirst()))
        self[first] = child
    }

    /// Applies `body` to every item of the sequence under `key` (no-op when absent).
    public mutating func modifyItems(_ key: String, _ body: (inout YAMLNode) throws -> Void) rethrows {
        guard var seq = self[key], case .sequence(var items, let style) = seq.content else { return }
        for i in items.indices { try body(&items[i]) }
        seq.content = .sequence(items, style)
        self[key] = seq
    }
}
