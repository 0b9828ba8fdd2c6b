public import Kube
import YAML

/// The `native` policy backend: a deterministic Rego document built from the prepared pod spec that pins what
/// an attacker would change — images, command and args, environment, mounts, security contexts, the injected
/// containers, volumes and the runtime class. The Kata agent does NOT enforce it (only genpolicy output is an
/// agent policy); it binds the pod spec to the policy hash for local runs and the simulated TEE.
public enum NativePolicy {
    /// The backend's version, part of every policy (bump it when the document changes).
    public static let version = 1

    /// The policy text for a prepared workload.
    public static func rego(for resource: KubeResource) -> String {
        let spec = resource.podSpec ?? YAMLNode(.mapping([], .block))
        var containers: [JSONValue] = []
        for key in ["initContainers", "containers"] {
            for c in spec[key]?.items ?? [] {
                containers.append(
                    .object([
                        ("kind", .string(key == "initContainers" ? "init" : "main")),
                        ("name", .string(c["name"]?.scalar ?? "")),
                        ("image", .string(c["image"]?.scalar ?? "")),
                        ("command", canonical(c["command"])), ("args", canonical(c["args"])),
                        ("env", canonical(c["env"])), ("volumeMounts", canonical(c["volumeMounts"])),
                        ("securityContext", canonical(c["securityContext"])),
                        ("restartPolicy", canonical(c["restartPolicy"])),
                    ]))
            }
        }
        let data: JSONValue = .object([
            ("kind", .string(resource.kind)), ("name", .string(resource.name)),
            ("namespace", .string(resource.namespace ?? "default")),
            ("runtimeClassName", canonical(spec["runtimeClassName"])),
            ("hostNetwork", canonical(spec["hostNetwork"])), ("hostPID", canonical(spec["hostPID"])),
            ("securityContext", canonical(spec["securityContext"])), ("volumes", canonical(spec["volumes"])),
            ("containers", .array(containers)),
        ])
        return """
            # contrast-pipe native policy v\(version) for \(resource.displayName).
            # Deterministic and bound to the pod spec through the initdata digest; NOT enforced by the Kata agent.
            package agent_policy

            default AllowRequestsFailingPolicy := false

            policy_data := \(data.indented())
            """
    }

    /// Canonical JSON of a YAML subtree: mappings sorted by key, scalars as strings (null when absent).
    static func canonical(_ node: YAMLNode?) -> JSONValue {
        guard let node else { return .null }
        switch node.content {
        case .scalar(let s, _): return node.isNull ? .null : .string(s)
        case .sequence(let items, _): return .array(items.map { canonical($0) })
        case .mapping(let pairs, _):
            return .object(pairs.map { ($0.key.scalar ?? "", canonical($0.value)) }.sorted { $0.0 < $1.0 })
        }
    }
}
