/// Errors parsing attestation evidence.
public struct EvidenceError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// A TCB_VERSION with its security patch levels decoded for the report's CPU generation.
public struct SNPTCB: Sendable, Equatable {
    /// The raw little-endian u64.
    public var raw: UInt64
    /// Boot loader SPL.
    public var bootloader: UInt8
    /// TEE (PSP OS) SPL.
    public var tee: UInt8
    /// SNP firmware SPL.
    public var snp: UInt8
    /// Microcode SPL.
    public var microcode: UInt8
    /// FMC SPL (Turin only).
    public var fmc: UInt8?

    /// Decodes a TCB_VERSION in the Milan/Genoa or the Turin layout.
    public init(raw: UInt64, turin: Bool) {
        self.raw = raw
        let b = (0..<8).map { UInt8(truncatingIfNeeded: raw >> (8 * UInt64($0))) }
        if turin {
            (fmc, bootloader, tee, snp, microcode) = (b[0], b[1], b[2], b[3], b[7])
        } else {
            (fmc, bootloader, tee, snp, microcode) = (nil, b[0], b[1], b[6], b[7])
        }
    }
}

/// An AMD SEV-SNP ATTESTATION_REPORT (versions 2, 3 and 5), every field decoded.
public struct SNPReport: Sendable, Equatable {
    /// Report size.
    public static let size = 0x4A0
    /// Bytes covered by the signature.
    public static let signedSize = 0x2A0

    /// CPU generation (decides the TCB layout and the AMD root).
    public enum Product: String, Sendable, Equatable {
        case milan = "Milan", genoa = "Genoa", turin = "Turin"

        /// A product from its name in any case (`milan`, `Genoa`, `TURIN`).
        public init?(name: String) {
            self.init(rawValue: name.prefix(1).uppercased() + name.dropFirst().lowercased())
        }
    }

    /// The raw report.
    public let raw: [UInt8]
    public let version: UInt32
    public let guestSVN: UInt32
    public let policy: UInt64
    public let familyID: [UInt8], imageID: [UInt8]
    public let vmpl: UInt32
    public let signatureAlgorithm: UInt32
    public let platformInfo: UInt64
    /// Signer info word at 0x48.
    public let signerInfo: UInt32
    public let reportData: [UInt8], measurement: [UInt8], hostData: [UInt8]
    public let idKeyDigest: [UInt8], authorKeyDigest: [UInt8], reportID: [UInt8], reportIDMA: [UInt8]
    /// CPUID family, model and stepping (v3+; nil for v2).
    public let cpuid: (family: UInt8, model: UInt8, stepping: UInt8)?
    public let chipID: [UInt8]
    public let currentVersion: (major: UInt8, minor: UInt8, build: UInt8)
    public let committedVersion: (major: UInt8, minor: UInt8, build: UInt8)
    /// Mitigation vectors (v5+).
    public let launchMitigationVector: UInt64?, currentMitigationVector: UInt64?
    /// Signature R and S as big-endian integers (48 bytes each).
    public let signatureR: [UInt8], signatureS: [UInt8]
    /// The generation, from CPUID (v3+) or the chip-ID heuristic (v2) unless given.
    public let product: Product
    public let currentTCB: SNPTCB, reportedTCB: SNPTCB, committedTCB: SNPTCB, launchTCB: SNPTCB

    public static func == (a: SNPReport, b: SNPReport) -> Bool { a.raw == b.raw && a.product == b.product }

    /// Parses a report; `product` overrides generation detection (needed for some v2 reports).
    public init(_ input: [UInt8], product: Product? = nil) throws(EvidenceError) {
        guard input.count >= Self.size else {
            throw EvidenceError("SNP report is \(input.count) bytes, expected \(Self.size)")
        }
        let r = Array(input.prefix(Self.size))
        raw = r
        func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(r[o + $1]) << (8 * UInt32($1)) } }
        func u64(_ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(r[o + $1]) << (8 * UInt64($1)) } }
        func bytes(_ o: Int, _ n: Int) -> [UInt8] { Array(r[o..<(o + n)]) }
        version = u32(0x000)
        guard (2...5).contains(version) else { throw EvidenceError("unsupported SNP report version \(version)") }
        guestSVN = u32(0x004)
        policy = u64(0x008)
        familyID = bytes(0x010, 16)
        imageID = bytes(0x020, 16)
        vmpl = u32(0x030)
        signatureAlgorithm = u32(0x034)
        guard signatureAlgorithm == 1 else {
            throw EvidenceError(
                "unsupported SNP signature algorithm \(signatureAlgorithm) (expected 1, ECDSA P-384/SHA-384)"
            )
        }
        platformInfo = u64(0x040)
        signerInfo = u32(0x048)
        reportData = bytes(0x050, 64)
        measurement = bytes(0x090, 48)
        hostData = bytes(0x0C0, 32)
        idKeyDigest = bytes(0x0E0, 48)
        authorKeyDigest = bytes(0x110, 48)
        reportID = bytes(0x140, 32)
        reportIDMA = bytes(0x160, 32)
        cpuid = version >= 3 ? (r[0x188], r[0x189], r[0x18A]) : nil
        chipID = bytes(0x1A0, 64)
        currentVersion = (r[0x1EA], r[0x1E9], r[0x1E8])
        committedVersion = (r[0x1EE], r[0x1ED], r[0x1EC])
        launchMitigationVector = version >= 5 ? u64(0x1F8) : nil
        currentMitigationVector = version >= 5 ? u64(0x200) : nil
        signatureR = Array(bytes(0x2A0, 48).reversed())
        signatureS = Array(bytes(0x2E8, 48).reversed())
        guard r[0x2A0 + 48..<0x2A0 + 72].allSatisfy({ $0 == 0 }), r[0x2E8 + 48..<0x2E8 + 72].allSatisfy({ $0 == 0 })
        else {
            throw EvidenceError("SNP signature R/S exceed 48 bytes")
        }
        let detected: Product
        if let product {
            detected = product
        } else if let (family, model, _) = cpuid {
            switch (family, model) {
            case (0x19, 0x00...0x0F): detected = .milan
            case (0x19, 0x10...0x1F), (0x19, 0xA0...0xAF): detected = .genoa
            case (0x1A, 0x00...0x11): detected = .turin
            default:
                throw EvidenceError(
                    "unknown SNP CPU family 0x\(String(family, radix: 16)) model 0x\(String(model, radix: 16))"
                )
            }
        } else {
            let c = bytes(0x1A0, 64)
            detected = c[8...].allSatisfy { $0 == 0 } && !c.allSatisfy { $0 == 0 } ? .turin : .milan
        }
        self.product = detected
        let turin = detected == .turin
        currentTCB = SNPTCB(raw: u64(0x038), turin: turin)
        reportedTCB = SNPTCB(raw: u64(0x180), turin: turin)
        committedTCB = SNPTCB(raw: u64(0x1E0), turin: turin)
        launchTCB = SNPTCB(raw: u64(0x1F0), turin: turin)
    }

    // MARK: - Policy and platform bits

    /// ABI minor and major version required by the guest policy.
    public var abi: (major: UInt8, minor: UInt8) { (UInt8((policy >> 8) & 0xff), UInt8(policy & 0xff)) }
    /// Policy bit 16: SMT allowed.
    public var smtAllowed: Bool { policy & (1 << 16) != 0 }
    /// Policy bit 18: migration agent allowed.
    public var migrateMAAllowed: Bool { policy & (1 << 18) != 0 }
    /// Policy bit 19: debugging allowed.
    public var debugAllowed: Bool { policy & (1 << 19) != 0 }
    /// Policy bit 20: single socket only.
    public var singleSocket: Bool { policy & (1 << 20) != 0 }
    /// Policy bit 21: CXL allowed.
    public var cxlAllowed: Bool { policy & (1 << 21) != 0 }
    /// Policy bit 22: AES-256-XTS memory encryption required.
    public var memAES256XTS: Bool { policy & (1 << 22) != 0 }
    /// Policy bit 23: RAPL disabled.
    public var raplDisabled: Bool { policy & (1 << 23) != 0 }
    /// Policy bit 24: ciphertext hiding (DRAM) required.
    public var ciphertextHiding: Bool { policy & (1 << 24) != 0 }
    /// Policy bit 25: page swap disabled.
    public var pageSwapDisabled: Bool { policy & (1 << 25) != 0 }
    /// True when reserved policy bit 17 is set and bits 63:26 are zero (go-sev-guest rejects other values).
    public var policyWellFormed: Bool { policy & (1 << 17) != 0 && policy >> 26 == 0 }
    /// Signer info bit 0: AUTHOR_KEY_EN.
    public var authorKeyEnabled: Bool { signerInfo & 1 != 0 }
    /// Platform info bits: SMT, TSME, ECC, RAPL disabled, ciphertext hiding, alias check complete, TIO.
    public var platformFlags: [String: Bool] {
        let names = [
            "SMTEnabled", "TSMEEnabled", "ECCEnabled", "RAPLDisabled", "CiphertextHidingDRAMEnabled",
            "AliasCheckComplete",
        ]
        var out: [String: Bool] = [:]
        for (i, n) in names.enumerated() { out[n] = platformInfo & (1 << UInt64(i)) != 0 }
        out["TIOEnabled"] = platformInfo & (1 << 7) != 0
        return out
    }

    /// Signer info bits 4:2: 0 VCEK, 1 VLEK.
    public var signingKey: UInt32 { (signerInfo >> 2) & 0x7 }
    /// Signer info bit 1.
    public var chipKeyMasked: Bool { signerInfo & 0x2 != 0 }
    /// Platform info bit 0.
    public var smtEnabled: Bool { platformInfo & 1 != 0 }

    /// The signed bytes.
    public var signedBytes: [UInt8] { Array(raw.prefix(Self.signedSize)) }
}
