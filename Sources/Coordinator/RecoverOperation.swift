import Crypto
import Foundation

/// `contrast-pipe recover`: attest the Coordinator (it answers in recovery mode), decrypt this owner's seed share and
/// hand the seed back, signed with the seed-share owner key.
public struct RecoverOperation: Sendable {
    /// The client used.
    public var client: CoordinatorClient
    /// The manifest whose reference values and coordinator policy the Coordinator must match.
    public var manifestPath: String
    /// seedshare-owner.pem.
    public var keyPath: String
    /// seed-shares.json.
    public var sharesPath: String

    /// Creates the operation.
    public init(client: CoordinatorClient, manifestPath: String, keyPath: String, sharesPath: String) {
        self.client = client
        self.manifestPath = manifestPath
        self.keyPath = keyPath
        self.sharesPath = sharesPath
    }

    /// Runs it.
    public func run() throws(CoordinatorError) {
        let manifest = try SetOperation.validated(try Files.read(manifestPath), path: manifestPath)
        let doc: API.SeedShareDocument
        do { doc = try SeedShares.parseFile(try Files.read(sharesPath)) } catch let e as CoordinatorError {
            throw e
        } catch {
            throw CoordinatorError(.invalidArgument, "\(sharesPath): \(error)")
        }
        let key: PrivateKey
        let pkcs1: String
        let pkix: [UInt8]
        do {
            key = try PrivateKey(pem: try Files.read(keyPath))
            pkcs1 = Digest(bytes: try key.publicKeyTypeSpecific()).hex
            pkix = try key.publicKeyPKIX()
        } catch let e as CoordinatorError { throw e } catch {
            throw CoordinatorError(.invalidArgument, "\(keyPath): \(error)")
        }
        guard let share = doc.seed_shares.first(where: { $0.public_key == pkcs1 }) else {
            throw CoordinatorError(.invalidArgument, "\(sharesPath) holds no share for the key in \(keyPath)")
        }
        let seed: [UInt8]
        do { seed = try key.decryptOAEP([UInt8](share.encrypted_seed), label: SeedShares.label) } catch {
            throw CoordinatorError(.invalidArgument, "cannot decrypt the seed share: \(error)")
        }
        _ = try client.attest(expecting: manifest)
        let salt = [UInt8](doc.salt)
        let signature: [UInt8]
        do { signature = try key.signDER(message: SHA256.hash(seed + salt).bytes, hash: .sha256) } catch {
            throw CoordinatorError(.internal, "sign recovery request: \(error)")
        }
        try client.recover(
            API.RecoverRequest(seed: Data(seed), salt: Data(salt), public_key: Data(pkix), signature: Data(signature))
        )
    }
}
