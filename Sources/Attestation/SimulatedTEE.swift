public import Crypto
import Engine
import Foundation

/// A simulated SEV-SNP platform for local runs and tests: an ARK/ASK pair (RSA-4096, RSASSA-PSS SHA-384 salt
/// 48, like AMD's) and a VCEK (ECDSA P-384 with AMD's TCB and hwID extensions), kept in a state directory, that
/// signs reports in the exact SNP layout. Verification goes through the same `SNPVerifier` as real evidence; the
/// simulated root is trusted only when a caller passes it explicitly, and callers must warn loudly when they do.
public final class SimulatedTEE: Sendable {
    /// DER of the ARK (self-signed), ASK and VCEK certificates.
    public let arkDER: [UInt8], askDER: [UInt8], vcekDER: [UInt8]
    // Parsed copies of the VCEK key, so concurrent reports neither share one EVP_PKEY nor re-parse the PEM.
    private let signers: ResourcePool<PrivateKey>
    /// The simulated chip ID (64 bytes).
    public let chipID: [UInt8]
    /// The TCB the VCEK is issued for.
    public let tcb: (bootloader: UInt8, tee: UInt8, snp: UInt8, microcode: UInt8)
    /// The simulated CPU generation (its ARK/ASK names, CPUID, TCB layout and hwID length follow AMD's).
    public let product: SNPReport.Product

    /// Loads the simulated platform from `directory`, creating it (keys mode 0600) on first use as `product`
    /// (default Milan). A directory created for another product is an error.
    public init(directory: String, product requested: SNPReport.Product? = nil, now: Int64? = nil) throws {
        let now = now ?? Int64(time(nil))
        tcb = (3, 0, 8, 115)
        let fm = FileManager.default
        let productFile = "\(directory)/product"
        let stored = (try? String(contentsOfFile: productFile, encoding: .utf8)).flatMap {
            SNPReport.Product(rawValue: $0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let paths = ["ark.pem", "ask.pem", "vcek.pem", "vcek-key.pem"].map { "\(directory)/\($0)" }
        let exists = paths.allSatisfy({ fm.fileExists(atPath: $0) })
        let product = exists ? (stored ?? .milan) : (requested ?? .milan)
        if let requested, requested != product {
            throw EvidenceError(
                "the simulated TEE in \(directory) is a \(product.rawValue) platform, not \(requested.rawValue); use another state directory"
            )
        }
        self.product = product
        let fullChipID =
            SHA384.hash(Array("contrast-pipe simulated chip".utf8)).bytes + SHA256.hash(string: "chip").bytes.prefix(16)
        // Turin reports carry an 8-byte chip ID (the rest zero) and its VCEKs an 8-byte hwID.
        chipID = product == .turin ? Array(fullChipID.prefix(8)) + [UInt8](repeating: 0, count: 56) : fullChipID
        if exists {
            let read: (String) throws -> [UInt8] = { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0))) }
            arkDER = try Certificate.pemChain(try read(paths[0]))[0].der
            askDER = try Certificate.pemChain(try read(paths[1]))[0].der
            vcekDER = try Certificate.pemChain(try read(paths[2]))[0].der
            let pem = try read(paths[3])
            signers = try ResourcePool(count: 4) { () throws(CryptoError) in try PrivateKey(pem: pem) }
            return
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let arkKey = try PrivateKey.generate(.rsa(bits: 4096))
        let askKey = try PrivateKey.generate(.rsa(bits: 4096))
        let leafKey = try PrivateKey.generate(.ecdsa(curve: "P-384"))
        let year: Int64 = 365 * 24 * 3600
        let name = product.rawValue
        var arkT = CertificateTemplate(
            commonName: "ARK-\(name)",
            serial: 1,
            notBefore: now - 3600,
            notAfter: now + 25 * year
        )
        arkT.isCA = true
        let ark = try CertificateIssuer.issue(
            arkT,
            subjectKey: arkKey,
            issuer: nil,
            issuerKey: arkKey,
            signature: .rsaPSSSHA384
        )
        var askT = CertificateTemplate(
            commonName: "SEV-\(name)",
            serial: 2,
            notBefore: now - 3600,
            notAfter: now + 25 * year
        )
        askT.isCA = true
        let ask = try CertificateIssuer.issue(
            askT,
            subjectKey: askKey,
            issuer: ark,
            issuerKey: arkKey,
            signature: .rsaPSSSHA384
        )
        var leafT = CertificateTemplate(
            commonName: "SEV-VCEK",
            serial: 3,
            notBefore: now - 3600,
            notAfter: now + 7 * year
        )
        leafT.extendedKeyUsage = []
        let base = "1.3.6.1.4.1.3704.1"
        let int: (Int) -> [UInt8] = { v in v < 128 ? [0x02, 0x01, UInt8(v)] : [0x02, 0x02, 0x00, UInt8(v)] }
        let productName = Array("\(name)-B0".utf8)
        leafT.rawExtensions = [
            ("\(base).1", int(0)), ("\(base).2", [0x16, UInt8(productName.count)] + productName),
            ("\(base).3.1", int(3)), ("\(base).3.2", int(0)), ("\(base).3.3", int(8)),
            ("\(base).3.4", int(0)), ("\(base).3.5", int(0)), ("\(base).3.6", int(0)), ("\(base).3.7", int(0)),
            ("\(base).3.8", int(115)),
        ]
        if product == .turin { leafT.rawExtensions.append(("\(base).3.9", int(0))) }
        leafT.rawExtensions.append(("\(base).4", product == .turin ? Array(chipID.prefix(8)) : chipID))
        let vcek = try CertificateIssuer.issue(
            leafT,
            subjectKey: leafKey,
            issuer: ask,
            issuerKey: askKey,
            signature: .rsaPSSSHA384
        )
        (arkDER, askDER, vcekDER) = (ark.der, ask.der, vcek.der)
        let pem = try leafKey.traditionalPEM()
        signers = try ResourcePool(count: 4) { () throws(CryptoError) in try PrivateKey(pem: pem) }
        for (path, text) in [(paths[0], ark.pem), (paths[1], ask.pem), (paths[2], vcek.pem)] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        try FileSystem.writeAtomically(pem, to: paths[3], mode: 0o600)
        try Data((name + "\n").utf8).write(to: URL(fileURLWithPath: productFile), options: .atomic)
        try Data((ask.pem + ark.pem).utf8).write(to: URL(fileURLWithPath: "\(directory)/ask_ark.pem"), options: .atomic)
    }

    /// The ARK certificate.
    public var ark: Certificate { get throws { try Certificate(der: arkDER) } }
    /// The ASK certificate.
    public var ask: Certificate { get throws { try Certificate(der: askDER) } }
    /// The VCEK certificate.
    public var vcek: Certificate { get throws { try Certificate(der: vcekDER) } }

    /// The ASK + ARK chain, for an explicitly configured verifier.
    public var chain: [Certificate] { get throws { [try ask, try ark] } }

    /// Signs a version-3 report of the platform's generation with the given MEASUREMENT, HOST_DATA and REPORT_DATA.
    public func report(measurement: [UInt8], hostData: [UInt8], reportData: [UInt8], policy: UInt64 = 0x30000) throws
        -> SNPReport
    {
        var r = [UInt8](repeating: 0, count: SNPReport.size)
        func put(_ o: Int, _ bytes: [UInt8]) { r.replaceSubrange(o..<(o + bytes.count), with: bytes) }
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        // TCB_VERSION: Milan/Genoa bl, tee at bytes 0, 1, snp 6, ucode 7; Turin fmc 0, bl 1, tee 2, snp 3, ucode 7.
        let tcbRaw =
            product == .turin
            ? UInt64(tcb.bootloader) << 8 | UInt64(tcb.tee) << 16 | UInt64(tcb.snp) << 24 | UInt64(tcb.microcode) << 56
            : UInt64(tcb.bootloader) | UInt64(tcb.tee) << 8 | UInt64(tcb.snp) << 48 | UInt64(tcb.microcode) << 56
        put(0x000, le(3, 4))
        put(0x008, le(policy, 8))
        put(0x034, le(1, 4))
        put(0x038, le(tcbRaw, 8))
        put(0x040, le(0, 8))  // PLATFORM_INFO: SMT disabled, as the simulated reference values require
        put(0x050, Array((reportData + [UInt8](repeating: 0, count: 64)).prefix(64)))
        put(0x090, Array((measurement + [UInt8](repeating: 0, count: 48)).prefix(48)))
        put(0x0C0, Array((hostData + [UInt8](repeating: 0, count: 32)).prefix(32)))
        put(0x140, SHA256.hash(measurement + hostData + reportData).bytes)
        put(0x160, [UInt8](repeating: 0xff, count: 32))
        put(0x180, le(tcbRaw, 8))
        // CPUID family, model, stepping of the generation.
        put(
            0x188,
            product == .milan ? [0x19, 0x01, 0x01] : product == .genoa ? [0x19, 0x11, 0x01] : [0x1A, 0x02, 0x01]
        )
        put(0x1A0, chipID)
        put(0x1E0, le(tcbRaw, 8))
        put(0x1F0, le(tcbRaw, 8))
        let signed = Array(r.prefix(SNPReport.signedSize))
        let (sr, ss) = try signers.with { (key: inout PrivateKey) throws(CryptoError) in
            try key.signECDSA(message: signed, hash: .sha384, size: 48)
        }
        put(0x2A0, Array(sr.reversed()))
        put(0x2E8, Array(ss.reversed()))
        return try SNPReport(r)
    }
}
