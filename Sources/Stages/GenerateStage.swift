import Contrast
import Crypto
public import Engine
import Foundation
import Kube
public import YAML

/// `generate`: contrast-pipe's native `contrast generate`. For every workload whose runtimeClassName starts
/// with `contrast-cc` it validates memory and service-mesh annotations, injects the initializer and the
/// service-mesh sidecar, rewrites the runtime class, computes the policy (memoized per workload), annotates
/// the initdata, and writes manifest.json in Contrast's schema.
///
///     generate:
///       generate:
///         inputs: [build/emojivoto.yml, build/coordinator.yml]
///         from: [patch]
///         output: deployment/resources.yml
///         manifest: deployment/manifest.json
///         platform: metal-qemu-snp                 # default: defaults.platform
///         reference-values: simulated              # (Milan; or simulated-genoa, simulated-turin) or a JSON file
///         base-manifest: manifest.base.json        # keep its ReferenceValues and keys (as contrast does)
///         minimum-tcb: {BootloaderVersion: 3, TEEVersion: 0, SNPVersion: 8, MicrocodeVersion: 115}
///         minimum-tcb-file: snphost-tcb.txt        # or `snphost show tcb` output (Platform TCB block)
///         mr-seam: <96 hex> | path/to/TDX-SEAM.so  # TDX: SHA-384 of the module is computed
///         sans: {web: [203.0.113.7]}               # extra SANs per workload
///         policy: native                           # or genpolicy
///         genpolicy: {binary: bin/genpolicy, rules: rules.rego, settings: settings.json}
public struct GenerateStage: Stage {
    public static let typeName = "generate"
    public static let version = 1
    public static let summary = "native contrast generate: initdata policies and manifest.json"
    public static let schema = ConfigSchema([
        .init("inputs", .stringOrList, required: true),
        .init("from", .stringOrList),
        .init("output", .string, required: true),
        .init("manifest", .string),
        .init("platform", .string),
        .init("reference-values", .string),
        .init("base-manifest", .string),
        .init("minimum-tcb", .object(ConfigSchema(Manifest.tcbFields.map { .init($0, .int) }))),
        .init("minimum-tcb-file", .string),
        .init("mr-seam", .string),
        .init("sans", .any),
        .init("policy", .string),
        .init(
            "genpolicy",
            .object(
                ConfigSchema([
                    .init("binary", .string, required: true), .init("rules", .string, required: true),
                    .init("settings", .string, required: true),
                ])
            )
        ),
        .init("images", .object(ConfigSchema([.init("initializer", .string), .init("service-mesh", .string)]))),
        .init("coordinator-namespace", .string),
        .init("workload-owner-key", .string),
        .init("seedshare-owner-key", .string),
    ])

    let resourceFiles: [String]
    let output: String
    let manifestPath: String
    let platform: String
    let referenceValues: String
    let baseManifest: String?
    let minimumTCB: [String: Int]?
    let minimumTCBFile: String?
    let mrSeam: String?
    let extraSANs: [String: [String]]
    let policy: String
    let genpolicy: (binary: String, rules: String, settings: String)?
    let preparer: WorkloadPreparer
    let ownerKey: String
    let seedshareKey: String
    public let references: [StageReference]

    public var inputs: [String] {
        var all = resourceFiles + [ownerKey, seedshareKey]
        if let baseManifest { all.append(baseManifest) }
        if let minimumTCBFile { all.append(minimumTCBFile) }
        if let mrSeam, Digest(hex: mrSeam) == nil { all.append(mrSeam) }
        if Self.simulatedProducts[referenceValues] == nil { all.append(referenceValues) }
        if let g = genpolicy { all += [g.binary, g.rules, g.settings] }
        return all
    }

    public var outputs: [String] { [output, manifestPath] }
    public var createdInputs: [String] { [ownerKey, seedshareKey] }

    public init(config: StageConfig) throws(Diagnostic) {
        let context = "stage '\(config.stageName)' (generate)"
        resourceFiles = config.strings("inputs")
        output = config.string("output") ?? ""
        manifestPath = config.string("manifest") ?? "manifest.json"
        platform = (config.string("platform") ?? config.defaults.platform ?? "metal-qemu-snp").lowercased()
        let platforms = ["metal-qemu-snp", "metal-qemu-snp-gpu", "metal-qemu-tdx", "metal-qemu-tdx-gpu"]
        guard platforms.contains(platform) else {
            throw config.error(
                at: "platform",
                "unknown platform '\(platform)' in \(context) (one of \(platforms.joined(separator: ", ")))"
            )
        }
        referenceValues = config.string("reference-values") ?? "simulated"
        baseManifest = config.string("base-manifest")
        if let tcb = config.node["minimum-tcb"] {
            var values: [String: Int] = [:]
            for p in tcb.pairs ?? [] {
                guard let v = p.value.int, (0...255).contains(v) else {
                    throw Diagnostic(
                        at: p.value.location ?? SourceLocation(file: "", line: 0, column: 0),
                        in: config.source,
                        "'\(p.key.scalar ?? "")' in 'minimum-tcb' of \(context) must be 0–255"
                    )
                }
                values[p.key.scalar ?? ""] = v
            }
            minimumTCB = values
        } else {
            minimumTCB = nil
        }
        minimumTCBFile = config.string("minimum-tcb-file")
        mrSeam = config.string("mr-seam")
        var sans: [String: [String]] = [:]
        for p in config.node["sans"]?.pairs ?? [] {
            sans[p.key.scalar ?? ""] = p.value.items?.compactMap(\.scalar) ?? p.value.scalar.map { [$0] } ?? []
        }
        extraSANs = sans
        policy = config.string("policy") ?? "native"
        guard policy == "native" || policy == "genpolicy" else {
            throw config.error(at: "policy", "'policy' in \(context) must be native or genpolicy")
        }
        if let g = config.node["genpolicy"] {
            genpolicy = (g["binary"]?.scalar ?? "", g["rules"]?.scalar ?? "", g["settings"]?.scalar ?? "")
        } else {
            genpolicy = nil
        }
        if policy == "genpolicy" && genpolicy == nil {
            throw config.error(at: "policy", "\(context) uses policy: genpolicy but has no 'genpolicy' settings")
        }
        preparer = WorkloadPreparer(
            platform: platform,
            initializerImage: config.node["images"]?["initializer"]?.scalar,
            serviceMeshImage: config.node["images"]?["service-mesh"]?.scalar,
            coordinatorNamespace: config.string("coordinator-namespace") ?? "default"
        )
        ownerKey = config.string("workload-owner-key") ?? "workload-owner.pem"
        seedshareKey = config.string("seedshare-owner-key") ?? "seedshare-owner.pem"
        references = config.references("from")
        for p in inputs + outputs where !Paths.isContained(p) {
            throw config.error(at: "inputs", "'\(p)' in \(context) must be a path inside the workspace")
        }
    }

    public func createInputs(in workspace: String) throws {
        for (path, kind) in [(ownerKey, PrivateKey.Kind.ecdsa(curve: "P-384")), (seedshareKey, .rsa(bits: 4096))] {
            let abs = Paths.resolve(path, against: workspace)
            guard FileSystem.fileStat(abs) == nil else { continue }
            // Secrets live in the workspace with mode 0600 and never enter the store or logs.
            try FileSystem.writeAtomically(try PrivateKey.generate(kind).traditionalPEM(), to: abs, mode: 0o600)
        }
    }

    public func run(_ context: StageContext) async throws -> StageResult {
        var manifest = try baseManifestValue(context)
        manifest.policies = [:]
        try addKeys(&manifest, context)
        // Everything besides a document's own text that shapes its rendering.
        var settings = [
            "generate-v\(Self.version)", preparer.platform, preparer.contrastVersion, preparer.initializerImage,
            preparer.serviceMeshImage, preparer.coordinatorNamespace, policy, "native-\(NativePolicy.version)",
        ]
        if let g = genpolicy {
            for path in [g.binary, g.rules, g.settings] {
                settings.append(try FileSystem.sha256(context.path(path)).hex)
            }
        }
        var workloads: [RenderedDocument] = []
        // Documents are memoized one by one, keyed by the digest of their exact bytes: editing one Deployment
        // re-renders that document only (and recomputes its policy), however large the input. Documents the last
        // run rendered are copied from its output (when the file still has the digest that run wrote), so an edit
        // touches the store for the changed documents only; everything stays bytes, with no re-parsing. Reading the
        // inputs and loading the last assembly are independent: they run side by side.
        let indexKey = settings + ["assembly", output]
        let files = resourceFiles
        async let readSources = files.map { file in
            let bytes = try Self.readInput(context.path(file), name: file)
            return (file: file, bytes: bytes, documents: Self.splitDocuments(bytes))
        }
        async let loadPrevious = Self.previousAssembly(context, key: indexKey, output: output)
        let sources = try await readSources
        let (reuse, previous) = try await loadPrevious
        let missing = sources.flatMap { $0.documents.filter { reuse[$0.digest] == nil }.map { settings + [$0.digest] } }
        if !missing.isEmpty { try context.prefetchMemos(namespace: "generate.document", keys: missing) }
        context.counters.add("generate.document.reused", sources.reduce(0) { $0 + $1.documents.count } - missing.count)
        var output: [UInt8] = []
        output.reserveCapacity(max(previous.count, sources.reduce(0) { $0 + $1.bytes.count } * 2))
        var entries: [AssemblyIndex.Entry] = []
        for (file, bytes, documents) in sources {
            for document in documents {
                let header: [UInt8]
                let yaml: ArraySlice<UInt8>
                if let entry = reuse[document.digest] {
                    header = entry.header
                    yaml = previous[entry.range]
                } else {
                    let encoded = try await context.memoized(
                        namespace: "generate.document",
                        key: settings + [document.digest]
                    ) {
                        try await renderDocument(
                            try document.text(in: bytes, file: file),
                            file: file,
                            firstLine: document.line,
                            context
                        ).encoded
                    }
                    guard let nl = encoded.firstIndex(of: 10) else { throw StageFailure("corrupt memoized document") }
                    header = Array(encoded[..<nl])
                    yaml = encoded[(nl + 1)...]
                }
                guard let doc = RenderedDocument(header: header[...]) else {
                    throw StageFailure("corrupt memoized document")
                }
                if !yaml.isEmpty && !output.isEmpty { output += Self.separator }
                let start = output.count
                output += yaml
                entries.append(
                    AssemblyIndex.Entry(document: document.digest, range: start..<output.count, header: header)
                )
                if doc.isWorkload { workloads.append(doc) }
            }
        }
        guard !workloads.isEmpty else {
            throw StageFailure(
                "no workload with a 'contrast-cc' runtime class in \(resourceFiles.joined(separator: ", "))",
                isInputError: true
            )
        }
        var seen: [String: Manifest.PolicyEntry] = [:]
        for w in workloads {
            let entry = Manifest.PolicyEntry(
                sans: [w.name, "*"] + (extraSANs[w.name] ?? []),
                workloadSecretID: w.secretID,
                role: w.role
            )
            if let existing = seen[w.digest] {
                if existing.sans == entry.sans {
                    throw StageFailure(
                        "policy hash collision: \(w.display) has the same policy as another workload",
                        isInputError: true
                    )
                }
                continue
            }
            seen[w.digest] = entry
            manifest.policies[w.digest] = entry
        }
        let verdict = manifest.validate()
        if !verdict.errors.isEmpty {
            throw StageFailure(
                "manifest.json is invalid:\n  " + verdict.errors.joined(separator: "\n  "),
                isInputError: true
            )
        }
        for missing in verdict.expectedMissing {
            context.warn(
                "expected missing: \(missing) — fill it in through the pipeline (minimum-tcb / mr-seam); `set` refuses until then"
            )
        }
        // Valid: write both files, side by side (hashing and writing the large output, rendering manifest.json).
        let rendered = output
        let outputPath = self.output
        let boundaries = Self.chunkBoundaries(entries, size: rendered.count)
        async let outputDigest: String = {
            let digest = SHA256.hash(rendered).hex
            try context.writeOutput(rendered, to: outputPath, digest: digest, chunkBoundaries: boundaries)
            return digest
        }()
        try FileSystem.writeAtomically(Array(manifest.json().utf8), to: context.path(manifestPath))
        let digest = try await outputDigest
        context.setMemo(
            namespace: "generate.assembly",
            key: indexKey,
            AssemblyIndex(outputDigest: digest, outputSize: rendered.count, entries: entries).encoded
        )
        return StageResult()
    }

    /// Parses, prepares and annotates one document (line numbers in errors are the file's).
    func renderDocument(_ text: String, file: String, firstLine: Int, _ context: StageContext) async throws
        -> RenderedDocument
    {
        let resources: [KubeResource]
        do {
            resources = try KubeDocuments(yaml: String(repeating: "\n", count: firstLine - 1) + text, file: file)
                .resources
        } catch {
            throw StageFailure(error.description, isInputError: true)
        }
        guard resources.count == 1, var r = resources.first else {
            let yaml = try KubeDocuments(resources: resources).yaml()
            return RenderedDocument(isWorkload: false, yaml: yaml)
        }
        guard WorkloadPreparer.isContrastWorkload(r) else {
            return RenderedDocument(isWorkload: false, yaml: try KubeDocuments(resources: [r]).yaml())
        }
        try prepare(&r)
        let initdata = try await policy(for: r, context)
        Self.annotate(&r, try initdata.annotationValue())
        var doc = RenderedDocument(isWorkload: true, yaml: try KubeDocuments(resources: [r]).yaml())
        doc.digest = initdata.digest
        doc.role = r.podAnnotations[WorkloadPreparer.podRole] ?? ""
        doc.secretID = WorkloadPreparer.secretID(r)
        doc.name = r.name
        doc.display = r.displayName
        return doc
    }

    func prepare(_ r: inout KubeResource) throws {
        do {
            try preparer.prepare(&r)
        } catch {
            throw StageFailure(error.message, isInputError: true)
        }
    }

    static func annotate(_ r: inout KubeResource, _ value: String) {
        guard var template = r.podTemplate else { return }
        template.setValue(.string(value), at: ["metadata", "annotations", Initdata.annotation])
        r.podTemplate = template
    }

    /// `reference-values:` names of the simulated platforms → ProductName.
    static let simulatedProducts = [
        "simulated": "Milan", "simulated-milan": "Milan", "simulated-genoa": "Genoa", "simulated-turin": "Turin",
    ]

    /// ReferenceValues (and keys) from a base manifest, a reference-values file, or the simulated platform.
    func baseManifestValue(_ context: StageContext) throws -> Manifest {
        var manifest = Manifest()
        if let baseManifest {
            manifest = try Manifest(json: try FileSystem.read(context.path(baseManifest)))
        } else if let product = Self.simulatedProducts[referenceValues] {
            guard platform.hasPrefix("metal-qemu-snp") else {
                throw StageFailure(
                    "reference-values: simulated exists for SEV-SNP platforms only; give a reference-values file for \(platform)",
                    isInputError: true
                )
            }
            manifest.snp = [ReferenceValues.simulatedSNP(minimumTCB: nil, product: product)]
        } else {
            let v = try JSONValue.parse(try FileSystem.read(context.path(referenceValues)))
            manifest.snp = (v["snp"]?.array ?? []).map(Manifest.orderSNP)
            manifest.tdx = (v["tdx"]?.array ?? []).map { $0.ordered(Manifest.tdxOrder) }
            if manifest.snp.isEmpty && manifest.tdx.isEmpty {
                throw StageFailure("\(referenceValues): no snp or tdx reference values", isInputError: true)
            }
        }
        var tcb = minimumTCB
        if let minimumTCBFile {
            let text = try PatchStage.readText(context.path(minimumTCBFile), name: minimumTCBFile)
            do { tcb = try ReferenceValues.parseSNPHostTCB(text) } catch {
                throw StageFailure("\(minimumTCBFile): \(error.message)", isInputError: true)
            }
        }
        if let tcb { manifest.snp = manifest.snp.map { Manifest.fillMinimumTCB($0, tcb) } }
        if let mrSeam {
            let hex: String
            if let d = Digest(hex: mrSeam), d.bytes.count == 48 {
                hex = mrSeam.lowercased()
            } else {
                hex = SHA384.hash(try FileSystem.read(context.path(mrSeam))).hex
            }
            manifest.tdx = manifest.tdx.map { Manifest.setField($0, "MrSeam", .string(hex), order: Manifest.tdxOrder) }
        }
        return manifest
    }

    func addKeys(_ manifest: inout Manifest, _ context: StageContext) throws {
        let owner = try PrivateKey(pem: try FileSystem.read(context.path(ownerKey)))
        let seed = try PrivateKey(pem: try FileSystem.read(context.path(seedshareKey)))
        let ownerDigest = SHA256.hash(try owner.publicKeyPKIX()).hex
        let seedHex = Digest(bytes: try seed.publicKeyTypeSpecific()).hex
        if !manifest.workloadOwnerKeyDigests.contains(ownerDigest) {
            manifest.workloadOwnerKeyDigests.append(ownerDigest)
        }
        if !manifest.seedshareOwnerPubKeys.contains(seedHex) { manifest.seedshareOwnerPubKeys.append(seedHex) }
    }

    /// The workload's initdata, memoized by the canonical prepared pod spec and the backend's inputs.
    func policy(for resource: KubeResource, _ context: StageContext) async throws -> Initdata {
        var spec = resource
        Self.annotate(&spec, "")
        let canonical = try KubeDocuments(resources: [spec]).yaml()
        var key = [canonical, policy]
        switch policy {
        case "genpolicy":
            guard let g = genpolicy else { throw StageFailure("genpolicy settings missing") }
            for path in [g.binary, g.rules, g.settings] { key.append(try FileSystem.sha256(context.path(path)).hex) }
            let bytes = try await context.memoized(namespace: "generate.policy", key: key) {
                try await runGenpolicy(canonical, g, context, workload: resource.displayName)
            }
            return Initdata(toml: bytes)
        default:
            key.append("native-\(NativePolicy.version)")
            let bytes = try await context.memoized(namespace: "generate.policy", key: key) {
                Initdata(data: ["policy.rego": NativePolicy.rego(for: resource)]).toml
            }
            return Initdata(toml: bytes)
        }
    }

    /// Runs genpolicy the way Contrast does: pod YAML on stdin, base64 annotation on stdout.
    func runGenpolicy(
        _ podYAML: String,
        _ g: (binary: String, rules: String, settings: String),
        _ context: StageContext,
        workload: String
    ) async throws -> [UInt8] {
        let argv = [
            context.path(g.binary), "--runtime-class-names=contrast-cc", "--rego-rules-path=\(context.path(g.rules))",
            "--json-settings-path=\(context.path(g.settings))", "--yaml-file=/dev/stdin", "--base64-out",
        ]
        let result = try await ProcessRunner.run(
            argv,
            directory: context.workspace,
            stdin: Array(podYAML.utf8),
            logPath: context.logPath,
            captureOutput: true
        )
        guard result.status == 0 else {
            throw StageFailure("genpolicy failed for \(workload) (exit \(result.status))", exitStatus: result.status)
        }
        let text = String(decoding: result.standardOutput, as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        do {
            return try Initdata.decode(annotation: text).toml
        } catch {
            throw StageFailure("genpolicy output for \(workload) is not base64(gzip(initdata)): \(error)")
        }
    }
}
