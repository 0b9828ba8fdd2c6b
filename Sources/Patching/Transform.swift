public import Kube
public import YAML

/// Which resources a transform applies to: every field given must match (lists match any of their values).
public struct Selector: Sendable, Equatable {
    /// Kinds (e.g. Deployment); empty = any kind with a pod spec.
    public var kinds: [String] = []
    /// Object names; empty = any.
    public var names: [String] = []
    /// Namespaces (unset namespace = "default"); empty = any.
    public var namespaces: [String] = []
    /// Object labels that must all be present with these values.
    public var labels: [String: String] = [:]

    /// Matches every workload.
    public init() {}

    /// True when `resource` is selected.
    public func matches(_ resource: KubeResource) -> Bool {
        (kinds.isEmpty || kinds.contains(resource.kind)) && (names.isEmpty || names.contains(resource.name))
            && (namespaces.isEmpty || namespaces.contains(resource.namespace ?? "default"))
            && labels.allSatisfy { resource.labels[$0.key] == $0.value }
    }
}

/// A declarative change to pod specs, the same changes the seed makes with diffs but independent of line
/// numbers: set the runtime class, set memory requests = limits, add or remove pod-template annotations.
public struct Transform: Sendable {
    /// What to change.
    public enum Action: Sendable, Equatable {
        /// Set `runtimeClassName` on the pod spec.
        case runtimeClass(String)
        /// Set `resources.requests.memory` and `resources.limits.memory` on containers (all, or the named ones).
        case memory(String, containers: [String])
        /// Add or overwrite pod-template annotations, in the given order.
        case annotations([String: String], order: [String])
        /// Remove pod-template annotations.
        case removeAnnotations([String])

        /// The action's key in the pipeline file.
        public var label: String {
            switch self {
            case .runtimeClass: "runtime-class"
            case .memory: "memory"
            case .annotations: "annotations"
            case .removeAnnotations: "remove-annotations"
            }
        }
    }

    /// The change.
    public var action: Action
    /// Which workloads it applies to.
    public var selector: Selector
    /// Where it is written (for messages).
    public var location: SourceLocation?

    /// Creates a transform.
    public init(action: Action, selector: Selector = Selector(), location: SourceLocation? = nil) {
        self.action = action
        self.selector = selector
        self.location = location
    }

    /// Applies the transform to every selected workload (kinds with pod specs only; other kinds pass through
    /// untouched) and returns how many it changed. A transform that selects nothing is an error: it almost
    /// always means a typo in the selector.
    public func apply(to documents: inout KubeDocuments) throws(Diagnostic) -> Int {
        var count = 0
        for i in documents.resources.indices where documents.resources[i].hasPodSpec {
            var resource = documents.resources[i]
            guard selector.matches(resource) else { continue }
            let original = resource
            try resource.modifyPodTemplate { (template: inout YAMLNode) throws(Diagnostic) in
                try apply(toTemplate: &template, resource: original)
            }
            documents.resources[i] = resource
            count += 1
        }
        if count == 0 {
            throw Diagnostic(location: location, message: "transform '\(action.label)' selects no workload", excerpt: nil)
        }
        return count
    }

    private func apply(toTemplate template: inout YAMLNode, resource: KubeResource) throws(Diagnostic) {
        switch action {
        case .runtimeClass(let name):
            template.setValue(.string(name), at: ["spec", "runtimeClassName"])
        case .memory(let value, let containers):
            guard Quantity.bytes(value) != nil else {
                throw Diagnostic(location: location, message: "'\(value)' is not a memory quantity", excerpt: nil)
            }
            var spec = template["spec"] ?? YAMLNode(.mapping([], .block))
            var seen = Set<String>()
            for key in ["initContainers", "containers"] {
                spec.modifyItems(key) { container in
                    let name = container["name"]?.scalar ?? ""
                    guard containers.isEmpty || containers.contains(name) else { return }
                    seen.insert(name)
                    var resources = container["resources"] ?? YAMLNode(.mapping([], .block))
                    resources.setValue(.string(value), at: ["limits", "memory"])
                    resources.setValue(.string(value), at: ["requests", "memory"])
                    container["resources"] = resources
                }
            }
            if let missing = containers.first(where: { !seen.contains($0) }) {
                throw Diagnostic(
                    location: location, message: "\(resource.displayName) has no container named '\(missing)'", excerpt: nil)
            }
            template["spec"] = spec
        case .annotations(let values, let order):
            for key in order {
                guard let value = values[key] else { continue }
                template.setValue(.string(value), at: ["metadata", "annotations", key])
            }
        case .removeAnnotations(let keys):
            guard var annotations = template.value(at: ["metadata", "annotations"]) else { return }
            for key in keys { annotations[key] = nil }
            if annotations.pairs?.isEmpty == true {
                template["metadata"]?["annotations"] = nil
            } else {
                template.setValue(annotations, at: ["metadata", "annotations"])
            }
        }
    }
}
