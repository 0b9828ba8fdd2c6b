public import Crypto

/// Everything the Coordinator derives from its secret seed (contrast-formats.md §6.2): the root CA key, the
/// history (transaction) signing key, the pod-state seed behind workload secrets, and — contrast-pipe's choice —
/// one mesh CA key per transition, so a restarted Coordinator with the same seed and history serves the same
/// mesh CA while every manifest update still rotates it.
public struct SeedEngine: Sendable {
    /// Seed length in bytes.
    public static let seedSize = 32
    /// Salt length in bytes.
    public static let saltSize = 32

    /// The secret seed.
    public let seed: [UInt8]
    /// The salt handed out with the seed shares.
    public let salt: [UInt8]
    private let podStateSeed: [UInt8]

    /// A fresh random seed and salt.
    public static func generate() throws(CoordinatorError) -> SeedEngine {
        do {
            return try SeedEngine(seed: try SecureRandom.bytes(seedSize), salt: try SecureRandom.bytes(saltSize))
        } catch let error as CoordinatorError { throw error } catch { throw CoordinatorError(.internal, "\(error)") }
    }

    /// The engine for a known seed and salt.
    public init(seed: [UInt8], salt: [UInt8]) throws(CoordinatorError) {
        guard seed.count == Self.seedSize, salt.count == Self.saltSize else {
            throw CoordinatorError(
                .invalidArgument,
                "seed must be \(Self.seedSize) bytes and salt \(Self.saltSize) bytes"
            )
        }
        self.seed = seed
        self.salt = salt
        do {
            podStateSeed = try HKDF.sha256(key: seed, salt: salt, info: Array("POD STATE SECRET".utf8), length: 32)
        } catch { throw CoordinatorError(.internal, "\(error)") }
    }

    private func key(_ info: String) throws(CryptoError) -> PrivateKey {
        // 48-byte scalar + 16 bytes of margin, so the reduction modulo the group order has negligible bias.
        let material = try HKDF.sha256(key: seed, salt: salt, info: Array(info.utf8), length: 64)
        return try PrivateKey.derivedECDSA(curve: "P-384", material: material)
    }

    /// The root CA key (ECDSA P-384, info `ROOT CA SEED`).
    public func rootCAKey() throws(CryptoError) -> PrivateKey { try key("ROOT CA SEED") }

    /// The key that signs `transitions/latest` (info `TRANSACTION SIGNING SECRET`).
    public func transactionSigningKey() throws(CryptoError) -> PrivateKey { try key("TRANSACTION SIGNING SECRET") }

    /// The mesh CA key of one transition.
    public func meshCAKey(transition: [UInt8]) throws(CryptoError) -> PrivateKey {
        try key("MESH CA KEY " + Digest(bytes: transition).hex)
    }

    /// The workload secret for a WorkloadSecretID: HKDF(podStateSeed, `WORKLOAD SECRET ID: <id>`).
    public func workloadSecret(id: String) throws(CryptoError) -> [UInt8] {
        try HKDF.sha256(key: podStateSeed, salt: [], info: Array("WORKLOAD SECRET ID: \(id)".utf8), length: 32)
    }
}
