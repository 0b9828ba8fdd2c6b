import Crypto
import Foundation

/// The Coordinator's PKI for one transition (contrast-formats.md §6.2): a root CA whose key comes from the seed,
/// and a mesh CA key (rotated with every manifest update) certified twice — as an intermediate signed by the root
/// and as a self-signed mesh CA — so workloads can trust either. Certificates are persisted in the history store so
/// a restarted Coordinator serves byte-identical PEMs.
public final class CertificateAuthority: Sendable {
    /// Root CA certificate (PEM).
    public let rootPEM: String
    /// Intermediate certificate: mesh CA key, signed by the root (PEM).
    public let intermediatePEM: String
    /// Mesh CA certificate: mesh CA key, self-signed (PEM).
    public let meshCAPEM: String
    /// Parsed mesh CA key and certificate, one copy per concurrent issuer.
    private struct Issuer {
        var key: PrivateKey
        var certificate: Certificate
    }

    private let issuers: ResourcePool<Issuer>

    static let tenYears: Int64 = 10 * 365 * 24 * 3600

    /// Loads or creates the root certificate (checking it matches the seed) and the CA pair of `transition`.
    public init(seed: SeedEngine, transition: [UInt8], store: HistoryStore, now: Int64? = nil) throws(CoordinatorError)
    {
        let now = now ?? Int64(Date().timeIntervalSince1970)
        do {
            let rootKey = try seed.rootCAKey()
            let root: Certificate
            if let stored = try store.record("ca/root.pem") {
                root = try Certificate.pemChain(stored)[0]
                guard try root.publicKey().pkix() == rootKey.publicKeyPKIX() else {
                    throw CoordinatorError(
                        .failedPrecondition,
                        "the stored root CA does not belong to this seed (wrong seed for this state directory?)"
                    )
                }
            } else {
                var t = CertificateTemplate(
                    commonName: "system:coordinator:root",
                    serial: Self.serial(),
                    notBefore: now - 3600,
                    notAfter: now + Self.tenYears
                )
                t.isCA = true
                root = try CertificateIssuer.issue(
                    t,
                    subjectKey: rootKey,
                    issuer: nil,
                    issuerKey: rootKey,
                    signature: .standard(.sha384)
                )
                try store.setRecord("ca/root.pem", Array(root.pem.utf8))
            }
            let meshKey = try seed.meshCAKey(transition: transition)
            let recordKey = "ca/mesh/\(Digest(bytes: transition).hex).pem"
            var pair: [Certificate] = []
            if let stored = try store.record(recordKey) {
                pair = try Certificate.pemChain(stored)
                guard pair.count == 2, try pair[0].publicKey().pkix() == meshKey.publicKeyPKIX() else {
                    throw CoordinatorError(.internal, "stored mesh CA certificates do not match the derived key")
                }
            } else {
                var t = CertificateTemplate(
                    commonName: "system:coordinator:intermediate",
                    serial: Self.serial(),
                    notBefore: now - 3600,
                    notAfter: now + Self.tenYears
                )
                t.isCA = true
                let intermediate = try CertificateIssuer.issue(
                    t,
                    subjectKey: meshKey,
                    issuer: root,
                    issuerKey: rootKey,
                    signature: .standard(.sha384)
                )
                t.serial = Self.serial()
                let mesh = try CertificateIssuer.issue(
                    t,
                    subjectKey: meshKey,
                    issuer: nil,
                    issuerKey: meshKey,
                    signature: .standard(.sha384)
                )
                pair = [intermediate, mesh]
                try store.setRecord(recordKey, Array((intermediate.pem + mesh.pem).utf8))
            }
            rootPEM = root.pem
            intermediatePEM = pair[0].pem
            meshCAPEM = pair[1].pem
            let keyPEM = try meshKey.traditionalPEM()
            let certDER = pair[1].der
            issuers = try ResourcePool(count: 4) { () throws(CryptoError) in
                Issuer(key: try PrivateKey(pem: keyPEM), certificate: try Certificate(der: certDER))
            }
        } catch let error as CoordinatorError {
            throw error
        } catch {
            throw CoordinatorError(.internal, "certificate authority: \(error)")
        }
    }

    static func serial() -> UInt64 {
        (try? SecureRandom.bytes(8)).map { $0.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } & 0x7fff_ffff_ffff_ffff } ?? 1
    }

    /// Splits manifest SANs into `IP:`, `URI:` (has a scheme) and `DNS:` entries, as Contrast does.
    public static func subjectAltNames(_ sans: [String]) throws(CoordinatorError) -> [String] {
        try sans.map { san throws(CoordinatorError) in
            guard !san.isEmpty, !san.contains(","), !san.contains(where: \.isWhitespace) else {
                throw CoordinatorError(.invalidArgument, "invalid SAN \"\(san)\"")
            }
            if IPAddress.isLiteral(san) { return "IP:\(san)" }
            if san.contains("://") { return "URI:\(san)" }
            return "DNS:\(san)"
        }
    }

    /// Issues a mesh leaf certificate for an EC public key (DER SubjectPublicKeyInfo) with the policy's SANs (CN = first DNS SAN), valid one year
    /// from an hour ago, EKU server+client. Returns the leaf PEM.
    public func issueLeaf(publicKeyInfo: [UInt8], sans: [String], now: Int64? = nil) throws(CoordinatorError) -> String
    {
        let now = now ?? Int64(Date().timeIntervalSince1970)
        do {
            let names = try Self.subjectAltNames(sans)
            let cn = sans.first { !IPAddress.isLiteral($0) && !$0.contains("://") } ?? "contrast-workload"
            var t = CertificateTemplate(
                commonName: cn,
                serial: Self.serial(),
                notBefore: now - 3600,
                notAfter: now + 365 * 24 * 3600
            )
            t.subjectAltNames = names
            let template = t
            return try issuers.with { (issuer: inout Issuer) throws(CryptoError) in
                try CertificateIssuer.issue(
                    template,
                    subjectPublicKeyInfo: publicKeyInfo,
                    issuer: issuer.certificate,
                    issuerKey: issuer.key,
                    signature: .standard(.sha384)
                ).pem
            }
        } catch let error as CoordinatorError {
            throw error
        } catch {
            throw CoordinatorError(.invalidArgument, "cannot issue a mesh certificate for this public key: \(error)")
        }
    }
}

/// IP literal detection via inet_pton.
enum IPAddress {
    static func isLiteral(_ s: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
    }
}
