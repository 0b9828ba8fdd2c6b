public import Foundation

/// The JSON bodies of the Coordinator's HTTP API (contrast-formats.md §4.3). Byte fields are base64 strings, as Go's
/// `encoding/json` writes `[]byte`.
public enum API {
    /// `GET /capabilities` response.
    public struct Capabilities: Codable, Sendable, Equatable {
        /// API version.
        public var version: String
        /// Supported endpoints.
        public var endpoints: [String]
        /// Evidence type OIDs this Coordinator issues.
        public var attestation_types: [String]

        /// Creates a capabilities document.
        public init(version: String, endpoints: [String], attestation_types: [String]) {
            self.version = version
            self.endpoints = endpoints
            self.attestation_types = attestation_types
        }
    }

    /// `POST /attest` request.
    public struct AttestRequest: Codable, Sendable {
        /// 32 random bytes.
        public var nonce: Data
        /// Creates a request.
        public init(nonce: Data) { self.nonce = nonce }
    }

    /// `POST /attest` response.
    public struct AttestResponse: Codable, Sendable {
        /// API version.
        public var version: String
        /// The evidence (SNP: go-sev-guest `Attestation` protobuf with the certificate chain).
        public var raw_attestation_doc: Data
        /// Evidence type OID (1.3.9901.2.1 SNP, 1.3.9901.2.2 TDX).
        public var attestation_type: String
        /// Manifest history, oldest first (raw bytes).
        public var manifests: [Data]
        /// Initdata documents referenced by the history.
        public var policies: [Data]
        /// Root CA certificate (PEM).
        public var root_ca: Data
        /// Mesh CA certificate (PEM).
        public var mesh_ca: Data
        /// Latest transition hash (32 bytes; empty before the first manifest).
        public var latest_transition_hash: Data?
        /// Signature of the latest transition by the Coordinator's history key.
        public var latest_transition_signature: Data?
    }

    /// `POST /v1/manifest` request.
    public struct SetManifestRequest: Codable, Sendable {
        /// Raw manifest.json bytes.
        public var manifest: Data
        /// Every initdata TOML document the manifest references.
        public var policies: [Data]
        /// The transition the update builds on (32 bytes); absent = the current one is not checked.
        public var previous_transition_hash: Data?
        /// ASN.1 ECDSA signature by a workload owner key over sha256(hex(transition hash)).
        public var signature: Data?
        /// DER PKIX public key of the signer (contrast-pipe addition: over plain HTTP there is no client certificate).
        public var public_key: Data?

        /// Creates a request.
        public init(
            manifest: Data,
            policies: [Data],
            previous_transition_hash: Data? = nil,
            signature: Data? = nil,
            public_key: Data? = nil
        ) {
            self.manifest = manifest
            self.policies = policies
            self.previous_transition_hash = previous_transition_hash
            self.signature = signature
            self.public_key = public_key
        }
    }

    /// One encrypted seed share.
    public struct SeedShare: Codable, Sendable, Equatable {
        /// The seed-share owner's public key (hex PKCS#1 DER), as listed in the manifest.
        public var public_key: String
        /// RSA-OAEP-SHA256 (label "seedshare") encryption of the seed.
        public var encrypted_seed: Data

        /// Creates a share.
        public init(public_key: String, encrypted_seed: Data) {
            self.public_key = public_key
            self.encrypted_seed = encrypted_seed
        }
    }

    /// The seed shares handed out on the first set.
    public struct SeedShareDocument: Codable, Sendable, Equatable {
        /// One share per SeedshareOwnerPubKey.
        public var seed_shares: [SeedShare]
        /// The salt that goes with the seed.
        public var salt: Data

        /// Creates a document.
        public init(seed_shares: [SeedShare], salt: Data) {
            self.seed_shares = seed_shares
            self.salt = salt
        }
    }

    /// `POST /v1/manifest` response.
    public struct SetManifestResponse: Codable, Sendable {
        /// API version.
        public var version: String
        /// Root CA (PEM).
        public var root_ca: Data
        /// The new mesh CA (PEM).
        public var mesh_ca: Data
        /// Seed shares, on the first set only.
        public var seed_shares_doc: SeedShareDocument?
    }

    /// `POST /v1/mesh/nonce` response: a single-use challenge for a mesh certificate request.
    public struct MeshNonce: Codable, Sendable {
        /// 32 random bytes.
        public var nonce: Data
    }

    /// `POST /v1/mesh/cert` request.
    public struct MeshCertRequest: Codable, Sendable {
        /// Evidence type OID.
        public var attestation_type: String
        /// The workload's evidence; REPORT_DATA = SHA-512(public_key ‖ nonce).
        public var raw_attestation_doc: Data
        /// The workload's public key, DER SubjectPublicKeyInfo.
        public var public_key: Data
        /// The nonce from `/v1/mesh/nonce`.
        public var nonce: Data

        /// Creates a request.
        public init(attestation_type: String, raw_attestation_doc: Data, public_key: Data, nonce: Data) {
            self.attestation_type = attestation_type
            self.raw_attestation_doc = raw_attestation_doc
            self.public_key = public_key
            self.nonce = nonce
        }
    }

    /// `POST /v1/mesh/cert` response (Contrast's `NewMeshCertResponse`).
    public struct MeshCertResponse: Codable, Sendable {
        /// Mesh CA certificate (PEM).
        public var mesh_ca: Data
        /// Leaf + intermediate (PEM).
        public var cert_chain: Data
        /// Root CA (PEM).
        public var root_ca: Data
        /// The workload secret derived for the policy's WorkloadSecretID.
        public var workload_secret: Data
    }

    /// `POST /v1/recover` request.
    public struct RecoverRequest: Codable, Sendable {
        /// The decrypted seed.
        public var seed: Data
        /// The salt from seed-shares.json.
        public var salt: Data
        /// The seed-share owner's public key (DER PKIX) the request is signed with.
        public var public_key: Data
        /// Signature over sha256(seed ‖ salt) by the seed-share owner key (RSA PKCS#1 v1.5 SHA-256).
        public var signature: Data

        /// Creates a request.
        public init(seed: Data, salt: Data, public_key: Data, signature: Data) {
            self.seed = seed
            self.salt = salt
            self.public_key = public_key
            self.signature = signature
        }
    }

    /// Error body.
    public struct ErrorBody: Codable, Sendable {
        /// The message.
        public var error: String
    }

    /// Encodes a body with sorted keys.
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? [UInt8](encoder.encode(value))) ?? Array("{}".utf8)
    }

    /// Decodes a body, mapping failures to 400.
    public static func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws(CoordinatorError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw CoordinatorError(.invalidArgument, "malformed JSON request: \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let c)?: c.debugDescription
        case .keyNotFound(let key, _)?: "missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?:
            "field \"\(c.codingPath.map(\.stringValue).joined(separator: "."))\": \(c.debugDescription)"
        default: "\(error)"
        }
    }
}

/// Evidence type OIDs (Contrast `internal/oid`).
public enum EvidenceType {
    /// SEV-SNP.
    public static let snp = "1.3.9901.2.1"
    /// TDX.
    public static let tdx = "1.3.9901.2.2"
}
