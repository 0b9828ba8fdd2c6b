import Attestation
import Contrast
import Crypto
import Foundation
import Synchronization

/// Configuration of a Coordinator instance.
public struct CoordinatorConfig: Sendable {
    /// Directory holding `history.sqlite` and (unless `persistSeed` is false) `secrets/seed.json` (mode 0600).
    public var stateDirectory: String
    /// Keep the seed on disk so a restart comes back Ready. False = memory only, like Contrast: a restart with
    /// history enters recovery mode.
    public var persistSeed = true
    /// The Coordinator's own evidence.
    public var issuer: any EvidenceIssuer
    /// Roots workload evidence must chain to.
    public var anchors: TrustAnchors

    /// Creates a configuration.
    public init(stateDirectory: String, issuer: any EvidenceIssuer, anchors: TrustAnchors, persistSeed: Bool = true) {
        self.stateDirectory = stateDirectory
        self.issuer = issuer
        self.anchors = anchors
        self.persistSeed = persistSeed
    }
}

/// The Contrast Coordinator: manifest history, authorization of updates, the CA, attestation of itself and issuance
/// of mesh certificates to attested workloads. Thread-safe: reads work on an immutable snapshot, updates are
/// serialized on the history store and published by swapping the snapshot.
public final class Coordinator: Sendable {
    /// Lifecycle state (Contrast: not Ready until a manifest is set; recovery mode after a restart without seed).
    public enum Status: String, Sendable {
        case awaitingManifest = "awaiting manifest"
        case ready
        case recovery = "recovery mode"
    }

    struct Snapshot: Sendable {
        var seed: SeedEngine?
        var latest: (hash: [UInt8], signature: [UInt8])?
        var manifests: [[UInt8]] = []
        var policies: [String: [UInt8]] = [:]
        var current: Manifest?
        var ca: CertificateAuthority?
        var recovery = false
    }

    private let config: CoordinatorConfig
    private let snapshot: Mutex<Snapshot>
    private let store: Mutex<HistoryStore>
    private let nonces = Mutex<[[UInt8]: ContinuousClock.Instant]>([:])
    private let validator: EvidenceValidator
    /// API version reported in responses.
    public static let apiVersion = "v1"
    static let nonceLifetime = Duration.seconds(300)
    static let maxOutstandingNonces = 100_000

    /// Opens the state directory and loads the history (recovery mode when history exists but no seed).
    public init(config: CoordinatorConfig) throws(CoordinatorError) {
        self.config = config
        validator = EvidenceValidator(anchors: config.anchors, cache: CertificateCache())
        do {
            try FileManager.default.createDirectory(atPath: config.stateDirectory, withIntermediateDirectories: true)
        } catch {
            throw CoordinatorError(.internal, "cannot create state directory \(config.stateDirectory): \(error)")
        }
        let history = try HistoryStore(path: config.stateDirectory + "/history.sqlite")
        let seed = try SeedFile.read(config.stateDirectory)
        let loaded = try Self.load(history: history, seed: seed)
        store = Mutex(history)
        snapshot = Mutex(loaded)
    }

    /// Rebuilds the in-memory state from the store. Without a seed and with history: recovery mode.
    static func load(history: HistoryStore, seed: SeedEngine?) throws(CoordinatorError) -> Snapshot {
        var s = Snapshot()
        guard let latest = try history.latest() else {
            s.seed = seed
            return s
        }
        guard let seed else {
            s.recovery = true
            return s
        }
        do {
            let txKey = try seed.transactionSigningKey().publicKey()
            guard txKey.verifyDER(message: latest.hash, signature: latest.signature, hash: .sha256) else {
                throw CoordinatorError(
                    .permissionDenied,
                    "the seed does not match this history (latest transition signature invalid)"
                )
            }
        } catch let error as CoordinatorError { throw error } catch { throw CoordinatorError(.internal, "\(error)") }
        s.seed = seed
        s.latest = latest
        for t in try history.chain(to: latest.hash) {
            guard let bytes = try history.get("manifests", hash: t.manifestHash) else {
                throw CoordinatorError(
                    .internal,
                    "history store: missing manifest \(Digest(bytes: t.manifestHash).hex)"
                )
            }
            s.manifests.append(bytes)
            let m: Manifest
            do { m = try Manifest(json: bytes) } catch {
                throw CoordinatorError(.internal, "history store: stored manifest unreadable: \(error)")
            }
            for key in m.policies.keys {
                guard let hash = Digest(hex: key), let doc = try history.get("policies", hash: hash.bytes) else {
                    throw CoordinatorError(.internal, "history store: missing policy \(key)")
                }
                s.policies[key] = doc
            }
            s.current = m
        }
        s.ca = try CertificateAuthority(seed: seed, transition: latest.hash, store: history)
        return s
    }

    /// The current lifecycle state.
    public var status: Status {
        snapshot.withLock { s in s.recovery ? .recovery : (s.current == nil ? .awaitingManifest : .ready) }
    }

    /// `GET /capabilities`.
    public func capabilities() -> API.Capabilities {
        API.Capabilities(
            version: Self.apiVersion,
            endpoints: ["/attest", "/capabilities", "/v1/manifest", "/v1/mesh/cert", "/v1/mesh/nonce", "/v1/recover"],
            attestation_types: [EvidenceType.snp]
        )
    }

    /// `POST /attest`: evidence binding the nonce, the latest transition and both CA certificates, plus the history.
    public func attest(nonce: [UInt8]) throws(CoordinatorError) -> API.AttestResponse {
        guard nonce.count == 32 else {
            throw CoordinatorError(.invalidArgument, "nonce must be 32 bytes, got \(nonce.count)")
        }
        // In recovery mode the evidence still answers (with no history or CAs), so `recover` can attest first.
        let s = snapshot.withLock { $0 }
        let root = Array((s.ca?.rootPEM ?? "").utf8)
        let mesh = Array((s.ca?.meshCAPEM ?? "").utf8)
        let reportData = ReportData.attest(
            nonce: nonce,
            latestHash: s.latest?.hash ?? [],
            latestSignature: s.latest?.signature ?? [],
            rootCA: root,
            meshCA: mesh
        )
        let evidence: (type: String, document: [UInt8])
        do { evidence = try config.issuer.evidence(reportData: reportData) } catch {
            throw CoordinatorError(.internal, "cannot produce evidence: \(error)")
        }
        return API.AttestResponse(
            version: Self.apiVersion,
            raw_attestation_doc: Data(evidence.document),
            attestation_type: evidence.type,
            manifests: s.manifests.map { Data($0) },
            policies: s.policies.keys.sorted().map { Data(s.policies[$0]!) },
            root_ca: Data(root),
            mesh_ca: Data(mesh),
            latest_transition_hash: s.latest.map { Data($0.hash) },
            latest_transition_signature: s.latest.map { Data($0.signature) }
        )
    }

    /// `POST /v1/manifest`.
    public func setManifest(_ request: API.SetManifestRequest, signerPublicKey: [UInt8]?) throws(CoordinatorError)
        -> API.SetManifestResponse
    {
        let manifestBytes = [UInt8](request.manifest)
        let manifest = try SetOperation.validated(manifestBytes, path: "manifest")
        var docs: [String: [UInt8]] = [:]
        for doc in request.policies { docs[SHA256.hash(doc).hex] = [UInt8](doc) }
        for key in manifest.policies.keys.sorted() where docs[key] == nil {
            throw CoordinatorError(.invalidArgument, "no policy provided for hash \(key)")
        }
        return try store.withLock { history throws(CoordinatorError) -> API.SetManifestResponse in
            let s = snapshot.withLock { $0 }
            if s.recovery { throw CoordinatorError(.failedPrecondition, "coordinator is in recovery mode") }
            let previous = s.latest?.hash ?? Transition.root
            if let asked = request.previous_transition_hash, [UInt8](asked) != previous {
                throw CoordinatorError(
                    .failedPrecondition,
                    "previous transition hash \(Digest(bytes: [UInt8](asked)).hex) does not match the latest transition \(Digest(bytes: previous).hex)"
                )
            }
            let transition = Transition(manifestHash: SHA256.hash(manifestBytes).bytes, previous: previous)
            if let current = s.current {
                try Self.authorize(
                    update: manifest,
                    current: current,
                    transition: transition.hash,
                    signature: request.signature,
                    signer: signerPublicKey
                )
            }
            var seed = s.seed
            var shares: API.SeedShareDocument?
            if seed == nil {
                do {
                    let fresh = try SeedEngine.generate()
                    shares = try SeedShares.encrypt(seed: fresh, for: manifest.seedshareOwnerPubKeys)
                    seed = fresh
                } catch let error as CoordinatorError { throw error } catch {
                    throw CoordinatorError(.internal, "seed generation: \(error)")
                }
            }
            guard let seed else { throw CoordinatorError(.internal, "no seed") }
            if config.persistSeed && s.seed == nil { try SeedFile.write(seed, to: config.stateDirectory) }
            // Write content-addressed entries first, then swing the signed latest pointer.
            try history.put("manifests", manifestBytes)
            for key in manifest.policies.keys { try history.put("policies", docs[key]!) }
            let hash = try history.putTransition(transition)
            let signature: [UInt8]
            do { signature = try seed.transactionSigningKey().signDER(message: hash, hash: .sha256) } catch {
                throw CoordinatorError(.internal, "sign transition: \(error)")
            }
            let ca = try CertificateAuthority(seed: seed, transition: hash, store: history)
            try history.compareAndSwapLatest(expected: s.latest?.hash, new: hash, signature: signature)
            snapshot.withLock { state in
                state.seed = seed
                state.latest = (hash, signature)
                state.manifests.append(manifestBytes)
                for key in manifest.policies.keys { state.policies[key] = docs[key]! }
                state.current = manifest
                state.ca = ca
            }
            return API.SetManifestResponse(
                version: Self.apiVersion,
                root_ca: Data(ca.rootPEM.utf8),
                mesh_ca: Data(ca.meshCAPEM.utf8),
                seed_shares_doc: shares
            )
        }
    }

    /// Checks that an update is signed by a workload owner of the current manifest and keeps the seed-share owners.
    static func authorize(update: Manifest, current: Manifest, transition: [UInt8], signature: Data?, signer: [UInt8]?)
        throws(CoordinatorError)
    {
        if current.workloadOwnerKeyDigests.isEmpty {
            throw CoordinatorError(
                .permissionDenied,
                "setting manifest is disabled: the current manifest lists no WorkloadOwnerKeyDigests"
            )
        }
        guard let signature, let signer else {
            throw CoordinatorError(
                .permissionDenied,
                "manifest updates must be signed by a workload owner key (signature and public_key)"
            )
        }
        let digest = SHA256.hash(signer).hex
        guard current.workloadOwnerKeyDigests.contains(digest) else {
            throw CoordinatorError(
                .permissionDenied,
                "public key \(digest) is not a workload owner of the current manifest"
            )
        }
        let message = Array(Digest(bytes: transition).hex.utf8)
        guard let key = try? PublicKey(spki: signer),
            key.verifyDER(message: message, signature: [UInt8](signature), hash: .sha256)
        else {
            throw CoordinatorError(
                .permissionDenied,
                "invalid signature over transition \(Digest(bytes: transition).hex)"
            )
        }
        if update.seedshareOwnerPubKeys.sorted() != current.seedshareOwnerPubKeys.sorted() {
            throw CoordinatorError(.permissionDenied, "changing SeedshareOwnerPubKeys is not allowed")
        }
    }

    /// `POST /v1/mesh/nonce`: a single-use challenge valid for five minutes.
    public func meshNonce() throws(CoordinatorError) -> [UInt8] {
        let nonce: [UInt8]
        do { nonce = try SecureRandom.bytes(32) } catch { throw CoordinatorError(.internal, "\(error)") }
        let now = ContinuousClock.now
        try nonces.withLock { table throws(CoordinatorError) in
            if table.count >= Self.maxOutstandingNonces { table = table.filter { $0.value > now } }
            guard table.count < Self.maxOutstandingNonces else {
                throw CoordinatorError(.unavailable, "too many outstanding nonces")
            }
            table[nonce] = now + Self.nonceLifetime
        }
        return nonce
    }

    /// `POST /v1/mesh/cert`: verifies workload evidence against the current manifest and issues its certificate.
    public func meshCert(_ request: API.MeshCertRequest) throws(CoordinatorError) -> API.MeshCertResponse {
        let s = snapshot.withLock { $0 }
        if s.recovery { throw CoordinatorError(.failedPrecondition, "coordinator is in recovery mode") }
        guard let manifest = s.current, let ca = s.ca, let seed = s.seed else {
            throw CoordinatorError(.failedPrecondition, "no manifest set yet")
        }
        let nonce = [UInt8](request.nonce)
        let fresh = nonces.withLock { $0.removeValue(forKey: nonce).map { $0 > ContinuousClock.now } ?? false }
        guard fresh else {
            throw CoordinatorError(.permissionDenied, "unknown or expired nonce (get one from /v1/mesh/nonce)")
        }
        let publicKeyDER = [UInt8](request.public_key)
        var policy = ReferenceValuePolicy(snp: manifest.snp, tdx: manifest.tdx)
        policy.expectedReportData =
            Digest(bytes: ReportData.publicKeyBinding(publicKey: publicKeyDER, nonce: nonce)).hex
        let (verdict, hostData) = validator.verify(
            type: request.attestation_type,
            document: [UInt8](request.raw_attestation_doc),
            policy: policy
        )
        guard verdict.accepted else {
            throw CoordinatorError(.permissionDenied, "evidence rejected: " + verdict.failureSummary)
        }
        let policyHash = Digest(bytes: hostData ?? []).hex
        guard let entry = manifest.policies[policyHash] else {
            throw CoordinatorError(.permissionDenied, "policy hash \(policyHash) not found in manifest")
        }
        let leaf = try ca.issueLeaf(publicKeyInfo: publicKeyDER, sans: entry.sans)
        let secret: [UInt8]
        do { secret = try seed.workloadSecret(id: entry.workloadSecretID) } catch {
            throw CoordinatorError(.internal, "\(error)")
        }
        return API.MeshCertResponse(
            mesh_ca: Data(ca.meshCAPEM.utf8),
            cert_chain: Data((leaf + ca.intermediatePEM).utf8),
            root_ca: Data(ca.rootPEM.utf8),
            workload_secret: Data(secret)
        )
    }

    /// `POST /v1/recover`: restores the seed after a restart without it. The request must be signed by a seed-share
    /// owner of the latest manifest, and the seed must verify the history's latest signature.
    public func recover(_ request: API.RecoverRequest) throws(CoordinatorError) {
        try store.withLock { history throws(CoordinatorError) in
            guard snapshot.withLock({ $0.recovery }) else {
                throw CoordinatorError(.failedPrecondition, "coordinator is not in recovery mode")
            }
            guard let latest = try history.latest(), let t = try history.transition(latest.hash),
                let bytes = try history.get("manifests", hash: t.manifestHash),
                let manifest = try? Manifest(json: bytes)
            else { throw CoordinatorError(.internal, "history has no readable latest manifest") }
            let key: PublicKey
            let pkcs1: String
            do {
                key = try PublicKey(spki: [UInt8](request.public_key))
                pkcs1 = Digest(bytes: try key.typeSpecificDER()).hex
            } catch { throw CoordinatorError(.invalidArgument, "public_key is not an RSA SubjectPublicKeyInfo") }
            guard manifest.seedshareOwnerPubKeys.contains(pkcs1) else {
                throw CoordinatorError(.permissionDenied, "the key is not a seed-share owner of the latest manifest")
            }
            let message = SHA256.hash([UInt8](request.seed) + [UInt8](request.salt)).bytes
            guard key.verifyDER(message: message, signature: [UInt8](request.signature), hash: .sha256) else {
                throw CoordinatorError(.permissionDenied, "invalid recovery signature")
            }
            let seed: SeedEngine
            do { seed = try SeedEngine(seed: [UInt8](request.seed), salt: [UInt8](request.salt)) } catch {
                throw CoordinatorError(.invalidArgument, "\(error)")
            }
            let loaded = try Self.load(history: history, seed: seed)
            if config.persistSeed { try SeedFile.write(seed, to: config.stateDirectory) }
            snapshot.withLock { $0 = loaded }
        }
    }

    /// Entries in the history store (tests compare it around refused requests).
    public func historyEntryCount() throws(CoordinatorError) -> Int {
        try store.withLock { history throws(CoordinatorError) in try history.entryCount() }
    }
}
