public import Contrast
import Crypto
import Engine
import Foundation
import Kube

/// `contrast-pipe set`: validate the manifest, check the resources' initdata against it, attest the Coordinator,
/// send manifest + initdata (signed with workload-owner.pem for updates), write the CA certificates and the seed
/// shares into the workspace.
public struct SetOperation: Sendable {
    /// Result of a set.
    public enum Outcome: Sendable, Equatable {
        /// The Coordinator already had this manifest as its latest; nothing was sent (no CA rotation).
        case unchanged
        /// The manifest was set; `first` when it was the first manifest (seed shares written).
        case set(first: Bool)
    }

    /// The client used.
    public var client: CoordinatorClient
    /// manifest.json path.
    public var manifestPath: String
    /// Resource files or directories holding the initdata annotations.
    public var resources: [String]
    /// Workspace directory: workload-owner.pem is read from it; CA files and seed-shares.json are written to it.
    public var workspace: String
    /// Skip the update when the latest manifest is already ours (the pipeline stage's behaviour).
    public var skipIfCurrent = true

    /// Creates the operation.
    public init(client: CoordinatorClient, manifestPath: String, resources: [String], workspace: String) {
        self.client = client
        self.manifestPath = manifestPath
        self.resources = resources
        self.workspace = workspace
    }

    /// Runs it.
    public func run() throws(CoordinatorError) -> Outcome {
        let manifestBytes = try Files.read(manifestPath)
        let manifest = try Self.validated(manifestBytes, path: manifestPath)
        let docs = try Self.initdataDocuments(resources)
        let hashes = Set(docs.keys)
        if hashes.count != manifest.policies.count {
            throw CoordinatorError(
                .invalidArgument,
                "policy count mismatch: the resources carry \(hashes.count) initdata annotations, the manifest lists \(manifest.policies.count) policies"
            )
        }
        for hash in hashes.sorted() where manifest.policies[hash] == nil {
            throw CoordinatorError(
                .invalidArgument,
                "policy \(hash) (from \(docs[hash]!.source)) not found in manifest"
            )
        }
        let attested = try client.attest(expecting: manifest)
        if skipIfCurrent, attested.manifests.last == manifestBytes {
            try writeCAs(root: attested.rootCA, mesh: attested.meshCA)
            return .unchanged
        }
        var request = API.SetManifestRequest(
            manifest: Data(manifestBytes),
            policies: hashes.sorted().map { Data(docs[$0]!.toml) },
            previous_transition_hash: Data(attested.latestTransition ?? Transition.root)
        )
        if let latest = attested.latestTransition {
            let keyPath = workspace + "/workload-owner.pem"
            guard FileManager.default.fileExists(atPath: keyPath) else {
                throw CoordinatorError(
                    .invalidArgument,
                    "updating the manifest needs the workload owner key \(keyPath)"
                )
            }
            let transition = Transition(manifestHash: SHA256.hash(manifestBytes).bytes, previous: latest).hash
            do {
                let key = try PrivateKey(pem: try Files.read(keyPath))
                request.signature = Data(
                    try key.signDER(message: Array(Digest(bytes: transition).hex.utf8), hash: .sha256)
                )
                request.public_key = Data(try key.publicKeyPKIX())
            } catch { throw CoordinatorError(.invalidArgument, "workload owner key \(keyPath): \(error)") }
        }
        let response = try client.setManifest(request)
        try writeCAs(root: [UInt8](response.root_ca), mesh: [UInt8](response.mesh_ca))
        if let shares = response.seed_shares_doc {
            try Files.write(Array(SeedShares.fileJSON(shares).utf8), to: workspace + "/seed-shares.json", mode: 0o600)
        }
        return .set(first: attested.latestTransition == nil)
    }

    private func writeCAs(root: [UInt8], mesh: [UInt8]) throws(CoordinatorError) {
        try Files.write(root, to: workspace + "/coordinator-root-ca.pem")
        try Files.write(mesh, to: workspace + "/mesh-ca.pem")
    }

    /// Parses and validates a manifest by Contrast's rules; expected-missing values are refused with the hint. The
    /// clients and the Coordinator use this one check; `path` names the manifest in messages.
    public static func validated(_ bytes: [UInt8], path: String) throws(CoordinatorError) -> Manifest {
        let manifest: Manifest
        do { manifest = try Manifest(json: bytes) } catch {
            throw CoordinatorError(.invalidArgument, "\(path): \(error)")
        }
        let verdict = manifest.validate()
        if !verdict.errors.isEmpty {
            throw CoordinatorError(
                .invalidArgument,
                "\(path): invalid manifest:\n  " + verdict.errors.joined(separator: "\n  ")
            )
        }
        if !verdict.expectedMissing.isEmpty {
            throw CoordinatorError(
                .invalidArgument,
                "\(path): expected-missing reference values:\n  " + verdict.expectedMissing.joined(separator: "\n  ")
                    + "\nfill them in (pipeline generate: minimum-tcb / minimum-tcb-file, mr-seam) and generate again"
            )
        }
        return manifest
    }

    /// A resource with a pod template as `set` and the embedded Coordinator see it.
    struct AnnotatedResource {
        /// `file: Kind/name`.
        var source: String
        /// The `contrast.edgeless.systems/pod-role` annotation ("" when absent).
        var role: String
        /// The decoded initdata annotation, if any.
        var initdata: Initdata?
    }

    /// Every resource of the files (directories searched) that has an initdata annotation or a pod role.
    static func annotatedResources(_ paths: [String]) throws(CoordinatorError) -> [AnnotatedResource] {
        var out: [AnnotatedResource] = []
        for file in try Files.yamlFiles(paths) {
            let text = String(decoding: try Files.read(file), as: UTF8.self)
            let documents: KubeDocuments
            do { documents = try KubeDocuments(yaml: text, file: file) } catch {
                throw CoordinatorError(.invalidArgument, "\(error)")
            }
            for resource in documents.resources {
                let annotations = resource.podAnnotations
                let role = annotations[WorkloadPreparer.podRole] ?? ""
                let value = annotations[Initdata.annotation]
                guard value != nil || !role.isEmpty else { continue }
                let source = "\(file): \(resource.displayName)"
                do {
                    out.append(
                        AnnotatedResource(
                            source: source,
                            role: role,
                            initdata: try value.map { try Initdata.decode(annotation: $0) }
                        )
                    )
                } catch {
                    throw CoordinatorError(.invalidArgument, "\(source): unreadable initdata annotation: \(error)")
                }
            }
        }
        return out
    }

    /// The initdata documents annotated in the resources, by policy hash.
    public static func initdataDocuments(_ paths: [String]) throws(CoordinatorError) -> [String: (
        toml: [UInt8], source: String
    )] {
        var out: [String: (toml: [UInt8], source: String)] = [:]
        for r in try annotatedResources(paths) {
            if let initdata = r.initdata { out[initdata.digest] = (initdata.toml, r.source) }
        }
        return out
    }
}

/// The engine's file helpers with Coordinator errors: reads, atomic writes (temp file + rename, mode from creation),
/// YAML file discovery.
public enum Files {
    /// Reads a whole file.
    public static func read(_ path: String) throws(CoordinatorError) -> [UInt8] {
        do { return try FileSystem.read(path) } catch {
            throw CoordinatorError(.invalidArgument, "cannot read \(path)")
        }
    }

    /// Writes atomically with `mode` (secrets: 0o600).
    public static func write(_ bytes: [UInt8], to path: String, mode: UInt32 = 0o644) throws(CoordinatorError) {
        do { try FileSystem.writeAtomically(bytes, to: path, mode: mode) } catch {
            throw CoordinatorError(.internal, "cannot write \(path): \(error)")
        }
    }

    /// YAML files named by `paths` (directories are searched recursively), sorted.
    public static func yamlFiles(_ paths: [String]) throws(CoordinatorError) -> [String] {
        do { return try FileSystem.yamlFiles(paths) } catch {
            guard case .io(let path, _, _) = error else { throw CoordinatorError(.invalidArgument, "\(error)") }
            throw CoordinatorError(.invalidArgument, "no such file: \(path)")
        }
    }
}
