public import Engine
import Foundation
import Kube
public import YAML

/// `apply`: puts rendered resources where they run.
///
///     apply:
///       apply:
///         inputs: [deployment/resources.yml]
///         from: generate
///         target: gitops                 # default; or kubectl
///         directory: gitops/emojivoto    # gitops: one file per object, stale files pruned
///         layout: per-object             # or keep (one file per input, same name)
///         git-commit: false              # gitops: commit the directory when it changed
///         # kubectl target:
///         kubeconfig: ~/.kube/config
///         context: my-cluster
///         namespace: default
///         dry-run: server                # or client
///         restart: [deployment/web]      # rollout restart after the apply (certificates re-issued)
///
/// The gitops target writes `<kind>-<namespace>-<name>.yaml` (lowercase; namespace `default` when unset),
/// deterministic bytes that Argo CD or Flux can sync unchanged. The kubectl target is a side effect on the
/// cluster: `kubectl apply --server-side --field-manager=contrast-pipe -f -` with the resources on stdin.
public struct ApplyStage: Stage {
    public static let typeName = "apply"
    public static let version = 1
    public static let summary = "write resources to a GitOps directory or kubectl apply them"
    public static let schema = ConfigSchema([
        .init("inputs", .stringOrList, required: true),
        .init("from", .stringOrList),
        .init("target", .string),
        .init("directory", .string),
        .init("layout", .string),
        .init("git-commit", .bool),
        .init("kubeconfig", .string),
        .init("context", .string),
        .init("namespace", .string),
        .init("dry-run", .string),
        .init("restart", .stringOrList),
        .init("kubectl", .string),
    ])

    let files: [String]
    let target: String
    let directory: String
    let layout: String
    let gitCommit: Bool
    let kubectlArgs: [String]
    let kubectl: String
    let dryRun: String?
    let restart: [String]
    let clusterName: String
    public let references: [StageReference]

    public var inputs: [String] { files }
    public var outputs: [String] { [] }
    public var sideEffectTarget: String? { target == "kubectl" ? "cluster \(clusterName)" : nil }

    public init(config: StageConfig) throws(Diagnostic) {
        let context = "stage '\(config.stageName)' (apply)"
        files = config.strings("inputs")
        target = config.string("target") ?? "gitops"
        guard target == "gitops" || target == "kubectl" else {
            throw config.error(at: "target", "'target' in \(context) must be gitops or kubectl")
        }
        directory = config.string("directory") ?? "gitops"
        layout = config.string("layout") ?? "per-object"
        guard layout == "per-object" || layout == "keep" else {
            throw config.error(at: "layout", "'layout' in \(context) must be per-object or keep")
        }
        gitCommit = config.bool("git-commit") ?? false
        var args: [String] = []
        if let k = config.string("kubeconfig") { args += ["--kubeconfig", k] }
        if let c = config.string("context") { args += ["--context", c] }
        if let n = config.string("namespace") { args += ["--namespace", n] }
        kubectlArgs = args
        clusterName = config.string("context") ?? "current-context"
        kubectl = config.string("kubectl") ?? "kubectl"
        dryRun = config.string("dry-run")
        if let d = dryRun, d != "server" && d != "client" {
            throw config.error(at: "dry-run", "'dry-run' in \(context) must be server or client")
        }
        restart = config.strings("restart")
        references = config.references("from")
        if target == "gitops" && !Paths.isContained(directory) {
            throw config.error(at: "directory", "'directory' in \(context) must be inside the workspace")
        }
    }

    public func run(_ context: StageContext) async throws -> StageResult {
        var perFile: [(String, [KubeResource])] = []
        for file in files {
            let text = try PatchStage.readText(context.path(file), name: file)
            do {
                perFile.append((file, try KubeDocuments(yaml: text, file: file).resources))
            } catch {
                throw StageFailure(error.description, isInputError: true)
            }
        }
        return target == "gitops" ? try await gitops(perFile, context) : try await apply(perFile, context)
    }

    /// The file name of an object in the per-object layout.
    static func objectFileName(_ r: KubeResource) -> String {
        let safe: (String) -> String = { s in
            String(s.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" })
        }
        return "\(safe(r.kind))-\(safe(r.namespace ?? "default"))-\(safe(r.name)).yaml"
    }

    func gitops(_ perFile: [(String, [KubeResource])], _ context: StageContext) async throws -> StageResult {
        var wanted: [String: String] = [:]
        if layout == "keep" {
            for (file, resources) in perFile {
                let name = file.split(separator: "/").last.map(String.init) ?? file
                wanted["\(directory)/\(name)"] = try KubeDocuments(resources: resources).yaml()
            }
        } else {
            for resource in perFile.flatMap(\.1) {
                let path = "\(directory)/\(Self.objectFileName(resource))"
                if wanted[path] != nil {
                    throw StageFailure("two objects map to \(path) (\(resource.displayName))", isInputError: true)
                }
                wanted[path] = try KubeDocuments(resources: [resource]).yaml()
            }
        }
        // Prune files this stage wrote before and no longer wants (it never touches other files).
        let index = "\(directory)/.contrast-pipe-files"
        let previous = (try? String(contentsOfFile: context.path(index), encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        var changed: [String] = []
        for old in previous where wanted[old] == nil && Paths.isContained(old) {
            if unlink(context.path(old)) == 0 { changed.append("removed \(old)") }
        }
        for (path, text) in wanted.sorted(by: { $0.key < $1.key }) {
            let abs = context.path(path)
            let current = FileManager.default.contents(atPath: abs).map { String(decoding: $0, as: UTF8.self) }
            if current != text {
                try FileSystem.writeAtomically(Array(text.utf8), to: abs)
                changed.append("\(current == nil ? "added" : "updated") \(path)")
            }
        }
        let listing = wanted.keys.sorted().joined(separator: "\n") + "\n"
        if previous.joined(separator: "\n") + "\n" != listing {
            try FileSystem.writeAtomically(Array(listing.utf8), to: context.path(index))
        }
        for line in changed { context.log(line) }
        if gitCommit && !changed.isEmpty {
            let message = "contrast-pipe: update \(directory)\n\n" + changed.joined(separator: "\n") + "\n"
            for argv in [["git", "add", "-A", "--", directory], ["git", "commit", "-q", "-m", message, "--", directory]] {
                let r = try await ProcessRunner.run(argv, directory: context.workspace, logPath: context.logPath)
                if r.status != 0 { throw StageFailure("\(argv.prefix(2).joined(separator: " ")) failed (exit \(r.status))") }
            }
        }
        return StageResult(outputs: wanted.keys.sorted() + [index])
    }

    func apply(_ perFile: [(String, [KubeResource])], _ context: StageContext) async throws -> StageResult {
        let yaml = try KubeDocuments(resources: perFile.flatMap(\.1)).yaml()
        var argv = [kubectl] + kubectlArgs + ["apply", "--server-side", "--field-manager=contrast-pipe", "-f", "-"]
        if let dryRun { argv.append("--dry-run=\(dryRun)") }
        let r = try await ProcessRunner.run(argv, directory: context.workspace, stdin: Array(yaml.utf8), logPath: context.logPath)
        guard r.status == 0 else { throw StageFailure("kubectl apply failed (exit \(r.status))", exitStatus: r.status) }
        if dryRun == nil {
            for workload in restart {
                let rr = try await ProcessRunner.run(
                    [kubectl] + kubectlArgs + ["rollout", "restart", workload], directory: context.workspace,
                    logPath: context.logPath)
                guard rr.status == 0 else { throw StageFailure("kubectl rollout restart \(workload) failed (exit \(rr.status))") }
            }
        }
        return StageResult()
    }
}
