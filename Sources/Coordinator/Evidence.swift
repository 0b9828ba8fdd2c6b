public import Attestation
import Contrast
import Crypto
import Foundation
import Synchronization

/// Produces attestation evidence binding `reportData`.
public protocol EvidenceIssuer: Sendable {
    /// Evidence type OID and the encoded document.
    func evidence(reportData: [UInt8]) throws -> (type: String, document: [UInt8])
}

/// Evidence from the simulated SEV-SNP platform: a Milan v3 report with the simulated guest measurement and the
/// given HOST_DATA, encoded as go-sev-guest `Attestation` with the VCEK, exactly like real SNP evidence.
public struct SimulatedSNPIssuer: EvidenceIssuer {
    /// The simulated platform.
    public let tee: SimulatedTEE
    /// MEASUREMENT (48 bytes).
    public let measurement: [UInt8]
    /// HOST_DATA (32 bytes): the policy hash of the guest.
    public let hostData: [UInt8]

    /// An issuer for a guest with the given policy hash; MEASUREMENT is the simulated guest's.
    public init(tee: SimulatedTEE, hostData: [UInt8]) {
        self.tee = tee
        measurement = Digest(hex: ReferenceValues.simulatedMeasurement)?.bytes ?? []
        self.hostData = hostData
    }

    public func evidence(reportData: [UInt8]) throws -> (type: String, document: [UInt8]) {
        let report = try tee.report(measurement: measurement, hostData: hostData, reportData: reportData)
        return (EvidenceType.snp, SNPAttestation.encode(report, vcek: tee.vcekDER, product: tee.product))
    }
}

/// Which roots evidence must chain to.
public enum TrustAnchors: Sendable {
    /// AMD's pinned ARKs and Intel's pinned SGX root (real hardware).
    case hardware
    /// An explicitly trusted simulated ASK+ARK chain (DER, ASK first). Proves nothing about real hardware.
    case simulated([[UInt8]])

    /// A digest naming these anchors (for cache keys).
    var digest: String {
        switch self {
        case .hardware: "hardware"
        case .simulated(let ders): SHA256.hash(ders.flatMap { $0 }).hex
        }
    }

    /// Reads a simulated ASK+ARK PEM bundle.
    public static func simulated(pemFile path: String) throws -> TrustAnchors {
        let chain = try Certificate.pemChain([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        return .simulated(chain.map(\.der))
    }
}

/// Parsed endorsement chains (VCEK/VLEK + ASK + ARK) by the digest of their DER bytes, so a Coordinator that sees
/// the same platform's evidence over and over parses its certificates once, not per request. Only parsing is cached:
/// every request still runs every check (signatures, validity, TCB, policy).
public final class CertificateCache: Sendable {
    /// One parsed chain (leaf first) and whether this copy already verified its chain signatures.
    struct Entry {
        var certificates: [Certificate]
        var signaturesVerified = false
    }

    private let entries = Mutex<[Digest: ResourcePool<Entry>]>([:])
    static let capacity = 64

    /// An empty cache.
    public init() {}

    func pool(key: Digest, make: @escaping () throws -> [[UInt8]]) throws -> ResourcePool<Entry> {
        if let pool = entries.withLock({ $0[key] }) { return pool }
        let ders = try make()
        let pool = try ResourcePool(count: 4) { () throws -> sending Entry in
            Entry(certificates: try ders.map { try Certificate(der: $0) })
        }
        entries.withLock { table in
            if table.count >= Self.capacity, let victim = table.keys.first { table.removeValue(forKey: victim) }
            table[key] = pool
        }
        return pool
    }
}

/// Verifies evidence documents against trust anchors and Contrast reference values.
public struct EvidenceValidator: Sendable {
    /// Roots to chain to.
    public let anchors: TrustAnchors
    /// Parsed-certificate cache (nil = parse per call).
    public let cache: CertificateCache?
    private let anchorsDigest: String

    /// Creates a validator (a Coordinator keeps one for all requests).
    public init(anchors: TrustAnchors, cache: CertificateCache? = nil) {
        self.anchors = anchors
        self.cache = cache
        anchorsDigest = anchors.digest
    }

    /// The verdict for one evidence document; `policy` carries the reference values, the allowed policy hashes
    /// (HOST_DATA / MRCONFIGID) and the expected REPORT_DATA.
    public func verify(type: String, document: [UInt8], policy: ReferenceValuePolicy) -> (Verdict, hostData: [UInt8]?) {
        var verdict = Verdict()
        switch type {
        case EvidenceType.snp:
            let attestation: SNPAttestation
            do { attestation = try SNPAttestation(protobuf: document) } catch {
                verdict.add("SNP evidence decodes", false, "\(error)")
                return (verdict, nil)
            }
            let report = attestation.report
            guard let leafDER = attestation.vcek ?? attestation.vlek else {
                verdict.add(
                    "evidence carries a VCEK/VLEK",
                    false,
                    "no endorsement key certificate (the AMD KDS is not reachable offline)"
                )
                return (verdict, report.hostData)
            }
            let anchors = self.anchors
            let vlek = attestation.vcek == nil
            // Leaf first, then the chain to the root.
            let certificates: () throws -> [[UInt8]] = {
                switch anchors {
                case .hardware:
                    guard let pinned = AMDRoots.chain(report.product, vlek: vlek) else {
                        throw CoordinatorError(
                            .internal,
                            "built-in AMD chain for \(report.product.rawValue) does not match its pin"
                        )
                    }
                    return [leafDER] + pinned.map(\.der)
                case .simulated(let ders):
                    return [leafDER] + ders
                }
            }
            let allowDebug = policy.snp.contains(where: { $0["GuestPolicy"]?["Debug"] == .bool(true) })
            let check: (inout CertificateCache.Entry) -> Verdict = { entry in
                var verifier = SNPVerifier(chain: Array(entry.certificates.dropFirst()))
                if allowDebug { verifier.forbidDebug = false }
                verifier.chainSignaturesVerified = entry.signaturesVerified
                let verdict = verifier.verify(report, leaf: entry.certificates[0])
                let signatures = verdict.checks.filter { SNPVerifier.chainSignatureChecks.contains($0.name) }
                if signatures.count == 3 && signatures.allSatisfy(\.passed) { entry.signaturesVerified = true }
                return verdict
            }
            do {
                if let cache {
                    let hasher = SHA256.hash(
                        leafDER + Array("\(report.product.rawValue)|\(vlek)|\(anchorsDigest)".utf8)
                    )
                    verdict.checks += try cache.pool(key: hasher, make: certificates).with(check).checks
                } else {
                    var parsed = CertificateCache.Entry(
                        certificates: try certificates().map { try Certificate(der: $0) }
                    )
                    verdict.checks += check(&parsed).checks
                }
            } catch {
                verdict.add("endorsement certificates parse", false, "\(error)")
                return (verdict, report.hostData)
            }
            verdict.checks += policy.check(report).checks
            return (verdict, report.hostData)
        case EvidenceType.tdx:
            let quote: TDXQuote
            do { quote = try TDXQuoteProto.decode(document) } catch {
                verdict.add("TDX evidence decodes", false, "\(error)")
                return (verdict, nil)
            }
            if case .simulated = anchors {
                verdict.add("TDX evidence", false, "the simulated TEE is SEV-SNP only")
                return (verdict, nil)
            }
            verdict.checks += TDXVerifier().verify(quote).checks
            verdict.checks += policy.check(quote).checks
            return (verdict, Array(quote.mrConfigID.prefix(32)))
        default:
            verdict.add("known evidence type", false, "unknown attestation type \(type)")
            return (verdict, nil)
        }
    }
}

/// Contrast's report-data constructions.
public enum ReportData {
    /// `/attest`: sha256(nonce ‖ transitionDigest ‖ sha256(root_ca) ‖ sha256(mesh_ca)) zero-padded to 64 bytes, where
    /// transitionDigest = sha256(latest transition hash ‖ its signature).
    public static func attest(
        nonce: [UInt8],
        latestHash: [UInt8],
        latestSignature: [UInt8],
        rootCA: [UInt8],
        meshCA: [UInt8]
    ) -> [UInt8] {
        let transitionDigest = SHA256.hash(latestHash + latestSignature).bytes
        let digest = SHA256.hash(nonce + transitionDigest + SHA256.hash(rootCA).bytes + SHA256.hash(meshCA).bytes).bytes
        return digest + [UInt8](repeating: 0, count: 32)
    }

    /// aTLS / mesh certificates: SHA-512(DER SubjectPublicKeyInfo ‖ nonce).
    public static func publicKeyBinding(publicKey: [UInt8], nonce: [UInt8]) -> [UInt8] {
        SHA512.hash(publicKey + nonce).bytes
    }
}
