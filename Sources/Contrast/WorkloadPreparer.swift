import Crypto
public import Kube
import YAML

/// What `generate` does to each Contrast workload before its policy is computed: validation (memory
/// requests = limits, service-mesh grammar), injection of the initializer and the service-mesh sidecar, and the
/// runtime-class rewrite. Idempotent: preparing a prepared workload changes nothing.
public struct WorkloadPreparer: Sendable {
    /// Pod annotation naming the pod's role.
    public static let podRole = "contrast.edgeless.systems/pod-role"
    /// Pod annotation that skips the initializer.
    public static let skipInitializer = "contrast.edgeless.systems/skip-initializer"
    /// Annotation that overrides the workload secret ID.
    public static let workloadSecretID = "contrast.edgeless.systems/workload-secret-id"

    /// Contrast platform name (e.g. `metal-qemu-snp`).
    public var platform: String
    /// The Contrast release whose runtime and images are targeted.
    public var contrastVersion: String
    /// Initializer image.
    public var initializerImage: String
    /// Service-mesh proxy image.
    public var serviceMeshImage: String
    /// Namespace of the Coordinator (for COORDINATOR_HOST).
    public var coordinatorNamespace: String

    /// Creates a preparer.
    public init(
        platform: String,
        contrastVersion: String = "v1.14.0",
        initializerImage: String? = nil,
        serviceMeshImage: String? = nil,
        coordinatorNamespace: String = "default"
    ) {
        self.platform = platform.lowercased()
        self.contrastVersion = contrastVersion
        self.initializerImage = initializerImage ?? "ghcr.io/edgelesssys/contrast/initializer:\(contrastVersion)"
        self.serviceMeshImage = serviceMeshImage ?? "ghcr.io/edgelesssys/contrast/service-mesh-proxy:\(contrastVersion)"
        self.coordinatorNamespace = coordinatorNamespace
    }

    /// The platform's runtime handler: `contrast-cc-<platform>-<8 hex>`, the suffix derived from the release.
    public var runtimeHandler: String {
        let suffix = SHA256.hash(string: "contrast-pipe runtime handler \(contrastVersion) \(platform)").hex.prefix(8)
        return "contrast-cc-\(platform)-\(suffix)"
    }

    /// True for workloads `generate` handles: a pod spec whose runtimeClassName starts with `contrast-cc`.
    public static func isContrastWorkload(_ r: KubeResource) -> Bool {
        r.podSpec?["runtimeClassName"]?.scalar?.hasPrefix("contrast-cc") == true
    }

    /// Validates and mutates one workload.
    public func prepare(_ resource: inout KubeResource) throws(ContrastError) {
        let name = resource.displayName
        let annotations = resource.podAnnotations
        let role = annotations[Self.podRole] ?? ""
        guard role == "" || role == "coordinator" else {
            throw ContrastError("\(name): annotation \(Self.podRole): unknown role '\(role)' (expected \"coordinator\" or none)")
        }
        try ServiceMesh.validate(annotations, workload: name)
        try Self.checkMemory(resource)
        let mesh = [ServiceMesh.ingress, ServiceMesh.egress, ServiceMesh.adminPort].contains { annotations[$0] != nil }
        let withInitializer = role != "coordinator" && annotations[Self.skipInitializer] != "true"
        let withMesh = role != "coordinator" && mesh
        var failure: ContrastError?
        resource.modifyPodTemplate { template in
            var spec = template["spec"] ?? YAMLNode(.mapping([], .block))
            // Runtime class: the placeholder (or a platform name) becomes this release's handler.
            if let rc = spec["runtimeClassName"]?.scalar, rc == "contrast-cc" || rc == "kata-cc-isolation"
                || rc == "contrast-cc-\(platform)"
            {
                spec["runtimeClassName"] = .string(runtimeHandler)
            }
            if withInitializer || withMesh {
                if let problem = secretsVolumeProblem(&spec, workload: name) {
                    failure = problem
                    return
                }
            }
            var inits = spec["initContainers"]?.items ?? []
            inits.removeAll { ["contrast-initializer", "contrast-service-mesh"].contains($0["name"]?.scalar) }
            var injected: [YAMLNode] = []
            if withInitializer { injected.append(initializer(mesh: mesh)) }
            if withMesh { injected.append(sidecar(annotations)) }
            inits = injected + inits
            if !inits.isEmpty { spec["initContainers"] = YAMLNode(.sequence(inits, .block)) }
            if withInitializer || withMesh {
                for key in ["initContainers", "containers"] {
                    spec.modifyItems(key) { Self.mountSecrets(&$0) }
                }
            }
            template["spec"] = spec
        }
        if let failure { throw failure }
    }

    /// Every container and init container must set memory requests and limits to the same quantity.
    static func checkMemory(_ resource: KubeResource) throws(ContrastError) {
        for key in ["initContainers", "containers"] {
            for c in resource.podSpec?[key]?.items ?? [] {
                let container = c["name"]?.scalar ?? "?"
                let requests = c.value(at: ["resources", "requests", "memory"])?.scalar
                let limits = c.value(at: ["resources", "limits", "memory"])?.scalar
                guard let requests, let limits, let r = Quantity.bytes(requests), let l = Quantity.bytes(limits), r == l else {
                    throw ContrastError(
                        "\(resource.displayName): container \(container): memory requests (\(requests ?? "unset")) must equal limits (\(limits ?? "unset"))")
                }
            }
        }
    }

    /// Adds the `contrast-secrets` emptyDir volume; returns a problem when a conflicting one exists.
    private func secretsVolumeProblem(_ spec: inout YAMLNode, workload: String) -> ContrastError? {
        var volumes = spec["volumes"]?.items ?? []
        if let existing = volumes.first(where: { $0["name"]?.scalar == "contrast-secrets" }) {
            return existing["emptyDir"] == nil
                ? ContrastError("\(workload): volume contrast-secrets exists and is not an emptyDir") : nil
        }
        volumes.append(
            .mapping([("name", .string("contrast-secrets")), ("emptyDir", .mapping([("medium", .string("Memory"))]))]))
        spec["volumes"] = YAMLNode(.sequence(volumes, .block))
        return nil
    }

    static func mountSecrets(_ container: inout YAMLNode) {
        var mounts = container["volumeMounts"]?.items ?? []
        guard !mounts.contains(where: { $0["name"]?.scalar == "contrast-secrets" }) else { return }
        mounts.append(.mapping([("name", .string("contrast-secrets")), ("mountPath", .string("/contrast"))]))
        container["volumeMounts"] = YAMLNode(.sequence(mounts, .block))
    }

    static func memory(_ value: String) -> YAMLNode {
        .mapping([("limits", .mapping([("memory", .string(value))])), ("requests", .mapping([("memory", .string(value))]))])
    }

    private func initializer(mesh: Bool) -> YAMLNode {
        var env: [YAMLNode] = [
            .mapping([("name", .string("COORDINATOR_HOST")), ("value", .string("coordinator-ready.\(coordinatorNamespace)"))])
        ]
        if !mesh {
            env.append(.mapping([("name", .string("CONTRAST_DISABLE_SERVICE_MESH")), ("value", .string("true"))]))
        }
        return .mapping([
            ("name", .string("contrast-initializer")), ("image", .string(initializerImage)),
            ("env", .sequence(env)), ("resources", Self.memory("50Mi")),
            ("volumeMounts", .sequence([.mapping([("name", .string("contrast-secrets")), ("mountPath", .string("/contrast"))])])),
        ])
    }

    private func sidecar(_ annotations: [String: String]) -> YAMLNode {
        var env: [YAMLNode] = []
        for (variable, annotation) in [
            ("CONTRAST_INGRESS_PROXY_CONFIG", ServiceMesh.ingress), ("CONTRAST_EGRESS_PROXY_CONFIG", ServiceMesh.egress),
            ("CONTRAST_ADMIN_PORT", ServiceMesh.adminPort),
        ] {
            if let value = annotations[annotation] {
                env.append(.mapping([("name", .string(variable)), ("value", .string(value))]))
            }
        }
        return .mapping([
            ("name", .string("contrast-service-mesh")), ("image", .string(serviceMeshImage)),
            ("restartPolicy", .string("Always")), ("args", .sequence([.string("-l"), .string("debug")])),
            ("env", .sequence(env)), ("resources", Self.memory("100Mi")),
            (
                "securityContext",
                .mapping([("privileged", YAMLNode(.scalar("true", .plain))), ("capabilities", .mapping([("add", .sequence([.string("NET_ADMIN")]))]))])
            ),
            (
                "startupProbe",
                .mapping([
                    ("exec", .mapping([("command", .sequence([.string("test"), .string("-f"), .string("/ready")]))])),
                    ("initialDelaySeconds", YAMLNode(.scalar("1", .plain))), ("periodSeconds", YAMLNode(.scalar("1", .plain))),
                ])
            ),
            ("volumeMounts", .sequence([.mapping([("name", .string("contrast-secrets")), ("mountPath", .string("/contrast"))])])),
        ])
    }

    /// The manifest's WorkloadSecretID: the annotation, or `<group|core>/<version>/<Kind>/<namespace|default>/<name>`.
    public static func secretID(_ r: KubeResource) -> String {
        if let id = r.podAnnotations[workloadSecretID] { return id }
        let gv = r.groupVersion
        return "\(gv.group)/\(gv.version)/\(r.kind)/\(r.namespace ?? "default")/\(r.name)"
    }
}
