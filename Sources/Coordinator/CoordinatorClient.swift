public import Attestation
public import Contrast
import Crypto
import Foundation
public import HTTP

/// What a client learned from an attested Coordinator: everything here is bound to the verified evidence through the
/// report data.
public struct AttestedState: Sendable {
    /// Manifest history, oldest first.
    public var manifests: [[UInt8]]
    /// Initdata documents of the history.
    public var policies: [[UInt8]]
    /// Root CA (PEM); empty before the first manifest.
    public var rootCA: [UInt8]
    /// Mesh CA (PEM); empty before the first manifest.
    public var meshCA: [UInt8]
    /// Latest transition hash; nil before the first manifest.
    public var latestTransition: [UInt8]?
    /// The checks that passed.
    public var verdict: Verdict
}

/// A client of the Coordinator's HTTP API that attests it before trusting anything it says.
public struct CoordinatorClient: Sendable {
    /// The Coordinator's address.
    public var endpoint: Endpoint
    /// Roots its evidence must chain to.
    public var anchors: TrustAnchors
    /// Keep retrying connection failures for this long (the Coordinator may still be starting).
    public var retrySeconds: Int = 0
    /// Called once per retry with the error; nil = silent.
    public var onRetry: (@Sendable (String) -> Void)?
    /// Speak HTTPS, verifying the Coordinator's TLS certificate against this CA file (nil = plain HTTP). The
    /// attestation does not depend on it: TLS only adds transport confidentiality.
    public var tlsCAFile: String?

    /// A client for `endpoint`.
    public init(endpoint: Endpoint, anchors: TrustAnchors, retrySeconds: Int = 0) {
        self.endpoint = endpoint
        self.anchors = anchors
        self.retrySeconds = retrySeconds
    }

    /// Sends a request, retrying transient connection errors every second until the deadline, and maps HTTP errors.
    func call<Response: Decodable>(_ path: String, _ body: [UInt8]?, _ type: Response.Type) throws(CoordinatorError)
        -> Response
    {
        let client = HTTPClient(endpoint: endpoint, useTLS: tlsCAFile != nil, tlsCAFile: tlsCAFile)
        let deadline = Date().addingTimeInterval(TimeInterval(retrySeconds))
        while true {
            let response: HTTPResponse
            do throws(HTTPError) {
                if let body { response = try client.postJSON(path, body) } else { response = try client.get(path) }
            } catch {
                guard error.transient, Date() < deadline else {
                    throw CoordinatorError(
                        .unavailable,
                        "cannot reach the coordinator at \(endpoint): \(error.message)"
                    )
                }
                onRetry?(error.message)
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            guard response.status == 200 else {
                let message =
                    (try? JSONDecoder().decode(API.ErrorBody.self, from: Data(response.body)))?.error ?? response.text
                throw CoordinatorError(
                    status: response.status,
                    message:
                        "coordinator answered \(response.status): \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
                )
            }
            return try API.decode(type, response.body)
        }
    }

    /// `GET /capabilities` (not attested; informational).
    public func capabilities() throws(CoordinatorError) -> API.Capabilities {
        try call("/capabilities", nil, API.Capabilities.self)
    }

    /// Attests the Coordinator against `manifest`'s reference values, requiring HOST_DATA to be one of the
    /// manifest's coordinator-role policy hashes, and returns the state its evidence vouches for.
    public func attest(expecting manifest: Manifest) throws(CoordinatorError) -> AttestedState {
        let coordinatorPolicies = Set(manifest.policies.filter { $0.value.role == "coordinator" }.keys)
        guard !coordinatorPolicies.isEmpty else {
            throw CoordinatorError(
                .invalidArgument,
                "the manifest has no policy with Role \"coordinator\" (add coordinator.yml to the generate inputs)"
            )
        }
        let nonce: [UInt8]
        do { nonce = try SecureRandom.bytes(32) } catch { throw CoordinatorError(.internal, "\(error)") }
        let response = try call("/attest", API.encode(API.AttestRequest(nonce: Data(nonce))), API.AttestResponse.self)
        let latest = [UInt8](response.latest_transition_hash ?? Data())
        let signature = [UInt8](response.latest_transition_signature ?? Data())
        let root = [UInt8](response.root_ca)
        let mesh = [UInt8](response.mesh_ca)
        let expected = ReportData.attest(
            nonce: nonce,
            latestHash: latest,
            latestSignature: signature,
            rootCA: root,
            meshCA: mesh
        )
        var policy = ReferenceValuePolicy(
            snp: manifest.snp,
            tdx: manifest.tdx,
            allowedPolicyHashes: coordinatorPolicies
        )
        policy.expectedReportData = Digest(bytes: expected).hex
        let (verdict, _) = EvidenceValidator(anchors: anchors).verify(
            type: response.attestation_type,
            document: [UInt8](response.raw_attestation_doc),
            policy: policy
        )
        guard verdict.accepted else {
            var message = "coordinator attestation failed: " + verdict.failureSummary
            if verdict.failures.contains(where: { $0.name.contains("HOST_DATA") || $0.name.contains("MRCONFIGID") }) {
                message +=
                    "\ncoordinator did not match the expectations, is the version correct and did you run `contrast generate`?"
            }
            throw CoordinatorError(.permissionDenied, message)
        }
        // The history must chain up to the attested latest transition.
        if !latest.isEmpty {
            var previous = Transition.root
            for m in response.manifests {
                previous = Transition(manifestHash: SHA256.hash([UInt8](m)).bytes, previous: previous).hash
            }
            guard previous == latest else {
                throw CoordinatorError(
                    .permissionDenied,
                    "the manifest history does not lead to the attested latest transition"
                )
            }
        } else if !response.manifests.isEmpty {
            throw CoordinatorError(.permissionDenied, "manifests returned without an attested latest transition")
        }
        return AttestedState(
            manifests: response.manifests.map { [UInt8]($0) },
            policies: response.policies.map { [UInt8]($0) },
            rootCA: root,
            meshCA: mesh,
            latestTransition: latest.isEmpty ? nil : latest,
            verdict: verdict
        )
    }

    /// `POST /v1/manifest`.
    public func setManifest(_ request: API.SetManifestRequest) throws(CoordinatorError) -> API.SetManifestResponse {
        try call("/v1/manifest", API.encode(request), API.SetManifestResponse.self)
    }

    /// `POST /v1/mesh/nonce` then `POST /v1/mesh/cert` with evidence from `issuer` binding `publicKey` and the nonce.
    public func meshCertificate(publicKey: [UInt8], issuer: any EvidenceIssuer) throws(CoordinatorError)
        -> API.MeshCertResponse
    {
        let nonce = [UInt8](try call("/v1/mesh/nonce", Array("{}".utf8), API.MeshNonce.self).nonce)
        let evidence: (type: String, document: [UInt8])
        do {
            evidence = try issuer.evidence(reportData: ReportData.publicKeyBinding(publicKey: publicKey, nonce: nonce))
        } catch {
            throw CoordinatorError(.internal, "cannot produce evidence: \(error)")
        }
        let request = API.MeshCertRequest(
            attestation_type: evidence.type,
            raw_attestation_doc: Data(evidence.document),
            public_key: Data(publicKey),
            nonce: Data(nonce)
        )
        return try call("/v1/mesh/cert", API.encode(request), API.MeshCertResponse.self)
    }

    /// `POST /v1/recover`.
    public func recover(_ request: API.RecoverRequest) throws(CoordinatorError) {
        struct Empty: Decodable {}
        _ = try call("/v1/recover", API.encode(request), Empty.self)
    }
}
