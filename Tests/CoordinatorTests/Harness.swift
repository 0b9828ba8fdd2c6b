import Attestation
import Contrast
import Coordinator
import Crypto
import Dispatch
import Foundation
import HTTP

/// Runs blocking client code on a Dispatch thread, keeping the concurrency pool free for the in-process server.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let result: Result<T, any Error> = await withCheckedContinuation { c in
        DispatchQueue.global().async { c.resume(returning: Result { try body() }) }
    }
    return try result.get()
}

/// Keys and a simulated platform shared by every test (RSA-4096 key generation takes seconds).
enum Shared {
    static let teeDirectory: String = {
        let dir = FileManager.default.temporaryDirectory.path + "/cp-coord-tee-\(getpid())"
        _ = try? SimulatedTEE(directory: dir)
        return dir
    }()
    static let ownerPEM: [UInt8] = (try? PrivateKey.generate(.ecdsa(curve: "P-384")).traditionalPEM()) ?? []
    static let otherOwnerPEM: [UInt8] = (try? PrivateKey.generate(.ecdsa(curve: "P-384")).traditionalPEM()) ?? []
    static let seedsharePEM: [UInt8] = (try? PrivateKey.generate(.rsa(bits: 2048)).traditionalPEM()) ?? []
    static let otherSeedsharePEM: [UInt8] = (try? PrivateKey.generate(.rsa(bits: 2048)).traditionalPEM()) ?? []
}

/// A Coordinator on 127.0.0.1 (free port) with its own state directory, plus the documents of a small deployment.
final class Harness: Sendable {
    let dir: String
    let coordinatorInitdata = Initdata(data: ["policy.rego": "package agent_policy\n# coordinator\n"])
    let webInitdata = Initdata(data: ["policy.rego": "package agent_policy\n# web\n"])
    let service: CoordinatorService
    private let owner: Bool

    init(dir existing: String? = nil, persistSeed: Bool = true, coordinatorPolicy: Initdata? = nil) throws {
        dir = existing ?? FileManager.default.temporaryDirectory.path + "/cp-coord-" + UUID().uuidString
        owner = existing == nil
        let tee = dir + "/state/simulated-tee"
        if !FileManager.default.fileExists(atPath: tee) {
            try FileManager.default.createDirectory(atPath: tee, withIntermediateDirectories: true)
            for f in ["ark.pem", "ask.pem", "vcek.pem", "vcek-key.pem", "ask_ark.pem"] {
                try FileManager.default.copyItem(atPath: "\(Shared.teeDirectory)/\(f)", toPath: "\(tee)/\(f)")
            }
        }
        var options = CoordinatorService.Options(
            listen: Endpoint(host: "127.0.0.1", port: 0),
            stateDirectory: dir + "/state",
            initdata: (coordinatorPolicy ?? coordinatorInitdata).toml
        )
        options.persistSeed = persistSeed
        service = try CoordinatorService(simulated: options)
        service.start()
    }

    func stop() { service.shutdown() }

    deinit {
        service.shutdown()
        if owner { try? FileManager.default.removeItem(atPath: dir) }
    }

    var client: CoordinatorClient {
        get throws {
            CoordinatorClient(
                endpoint: service.endpoint,
                anchors: try TrustAnchors.simulated(pemFile: dir + "/state/simulated-tee/ask_ark.pem")
            )
        }
    }

    var http: HTTPClient { HTTPClient(endpoint: service.endpoint) }

    /// A complete manifest for the coordinator + web policies.
    func manifest(webSANs: [String] = ["web", "*"], seedshareKeys: [[UInt8]]? = nil, ownerKeys: [[UInt8]]? = nil) throws
        -> Manifest
    {
        var m = Manifest()
        m.policies[coordinatorInitdata.digest] = .init(
            sans: ["coordinator", "*"],
            workloadSecretID: "apps/v1/StatefulSet/default/coordinator",
            role: "coordinator"
        )
        m.policies[webInitdata.digest] = .init(sans: webSANs, workloadSecretID: "web", role: "")
        m.snp = [
            ReferenceValues.simulatedSNP(minimumTCB: [
                "BootloaderVersion": 3, "TEEVersion": 0, "SNPVersion": 8, "MicrocodeVersion": 115,
            ])
        ]
        m.workloadOwnerKeyDigests = try (ownerKeys ?? [Shared.ownerPEM]).map {
            SHA256.hash(try PrivateKey(pem: $0).publicKeyPKIX()).hex
        }
        m.seedshareOwnerPubKeys = try (seedshareKeys ?? [Shared.seedsharePEM]).map {
            Digest(bytes: try PrivateKey(pem: $0).publicKeyTypeSpecific()).hex
        }
        return m
    }

    var policies: [Data] { [Data(coordinatorInitdata.toml), Data(webInitdata.toml)] }

    /// A signed update request building on `previous`.
    func signedRequest(_ manifest: Manifest, previous: [UInt8], key: [UInt8] = Shared.ownerPEM) throws
        -> API.SetManifestRequest
    {
        let bytes = Array(manifest.json().utf8)
        let transition = Transition(manifestHash: SHA256.hash(bytes).bytes, previous: previous).hash
        let k = try PrivateKey(pem: key)
        return API.SetManifestRequest(
            manifest: Data(bytes),
            policies: policies,
            previous_transition_hash: Data(previous),
            signature: Data(try k.signDER(message: Array(Digest(bytes: transition).hex.utf8), hash: .sha256)),
            public_key: Data(try k.publicKeyPKIX())
        )
    }

    /// The observable state: entry count and attested latest transition.
    func snapshot() async throws -> (Int, [UInt8]?, Int) {
        let count = try service.coordinator.historyEntryCount()
        let m = try manifest()
        let client = try self.client
        let state = try await offPool { try client.attest(expecting: m) }
        return (count, state.latestTransition, state.manifests.count)
    }

    /// Sends raw JSON to a path; returns the status and body.
    func post(_ path: String, _ body: [UInt8]) async throws -> (Int, String) {
        let http = self.http
        let r = try await offPool { try http.postJSON(path, body) }
        return (r.status, r.text)
    }
}
