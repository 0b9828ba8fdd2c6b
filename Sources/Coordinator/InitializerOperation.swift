public import Attestation
import Crypto
import Foundation

/// `contrast-pipe initializer`: the workload side on the simulated TEE — a fresh P-256 key, evidence binding it to a
/// Coordinator nonce, and the mesh credentials written like Contrast's initializer writes /contrast/tls-config.
public struct InitializerOperation: Sendable {
    /// The client used (no attestation of the Coordinator, as Contrast's initializer).
    public var client: CoordinatorClient
    /// The workload's initdata TOML (its SHA-256 is HOST_DATA).
    public var initdataPath: String
    /// Output directory.
    public var outputDirectory: String
    /// The platform that signs the evidence.
    public var tee: SimulatedTEE

    /// Creates the operation.
    public init(client: CoordinatorClient, initdataPath: String, outputDirectory: String, tee: SimulatedTEE) {
        self.client = client
        self.initdataPath = initdataPath
        self.outputDirectory = outputDirectory
        self.tee = tee
    }

    /// Runs it; returns the written file names.
    @discardableResult
    public func run() throws(CoordinatorError) -> [String] {
        let initdata = try Files.read(initdataPath)
        let key: PrivateKey
        let publicKey: [UInt8]
        let keyPEM: [UInt8]
        do {
            key = try PrivateKey.generate(.ecdsa(curve: "P-256"))
            publicKey = try key.publicKeyPKIX()
            keyPEM = try key.pkcs8PEM()
        } catch { throw CoordinatorError(.internal, "key generation: \(error)") }
        let issuer = SimulatedSNPIssuer(tee: tee, hostData: SHA256.hash(initdata).bytes)
        let response = try client.meshCertificate(publicKey: publicKey, issuer: issuer)
        let files: [(String, [UInt8], UInt32)] = [
            ("mesh-ca.pem", [UInt8](response.mesh_ca), 0o644), ("certChain.pem", [UInt8](response.cert_chain), 0o644),
            ("key.pem", keyPEM, 0o600), ("coordinator-root-ca.pem", [UInt8](response.root_ca), 0o644),
            ("workload-secret-seed", Array(Digest(bytes: [UInt8](response.workload_secret)).hex.utf8), 0o600),
        ]
        for (name, bytes, mode) in files { try Files.write(bytes, to: "\(outputDirectory)/\(name)", mode: mode) }
        return files.map(\.0)
    }
}
