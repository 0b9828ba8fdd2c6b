public import Crypto
import Foundation

/// One named check and its outcome.
public struct Check: Sendable, Equatable {
    /// What was checked.
    public var name: String
    /// Whether it passed.
    public var passed: Bool
    /// Why it failed (or what was found).
    public var detail: String
}

/// The result of verifying evidence: every check with its result, never just a thrown error.
public struct Verdict: Sendable, Equatable {
    /// All checks, in the order they ran.
    public var checks: [Check] = []

    /// An empty verdict.
    public init() {}
    /// True when every check passed.
    public var accepted: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
    /// The failed checks.
    public var failures: [Check] { checks.filter { !$0.passed } }

    /// The failed checks in one line: `name (detail); name; …`.
    public var failureSummary: String {
        failures.map { "\($0.name)\($0.detail.isEmpty ? "" : " (\($0.detail))")" }.joined(separator: "; ")
    }

    /// Records a check.
    public mutating func add(_ name: String, _ passed: Bool, _ detail: String = "") {
        checks.append(Check(name: name, passed: passed, detail: detail))
    }
}

/// Verifies SEV-SNP reports: the report signature with the VCEK/VLEK, the certificate chain to an AMD root,
/// the VCEK's TCB and hardware-ID extensions against the report, and the default policy (debug forbidden).
public struct SNPVerifier {
    /// The AMD ARK/ASK (or ASVK) chain: intermediate first, root second (the KDS `cert_chain` order).
    public var chain: [Certificate]
    /// Reject reports whose guest policy allows debugging.
    public var forbidDebug = true
    /// The time at which certificates must be valid (seconds since 1970); nil = now.
    public var at: Int64?
    /// The caller verified the chain's three signatures for these exact certificate objects before (a cache of
    /// parsed chains): they are reported as passed without recomputing them. Validity and everything else is
    /// still checked.
    public var chainSignaturesVerified = false

    /// The names of the three chain-signature checks.
    public static let chainSignatureChecks = [
        "root is self-signed", "intermediate signed by root", "leaf signed by intermediate",
    ]

    /// Creates a verifier trusting `chain`.
    public init(chain: [Certificate]) {
        self.chain = chain
    }

    /// Verifies `report` signed by `leaf` (VCEK or VLEK).
    public func verify(_ report: SNPReport, leaf: Certificate) -> Verdict {
        var v = Verdict()
        v.add(
            "report signature (ECDSA P-384, SHA-384)",
            leaf.verifyECDSA(message: report.signedBytes, r: report.signatureR, s: report.signatureS, hash: .sha384),
            "signed by \(leaf.subjectCommonName ?? "?")"
        )
        let trailer = report.raw[0x330..<SNPReport.size].allSatisfy { $0 == 0 }
        v.add("reserved bytes 0x330–0x49F are zero", trailer)
        if chain.count >= 2 {
            let (intermediate, root) = (chain[0], chain[1])
            if chainSignaturesVerified {
                for name in Self.chainSignatureChecks { v.add(name, true, "verified earlier for these certificates") }
            } else {
                v.add("root is self-signed", root.isSigned(by: root), root.subjectCommonName ?? "")
                v.add(
                    "intermediate signed by root",
                    intermediate.isSigned(by: root),
                    intermediate.subjectCommonName ?? ""
                )
                v.add("leaf signed by intermediate", leaf.isSigned(by: intermediate), leaf.issuerCommonName ?? "")
            }
        } else {
            v.add("certificate chain", false, "need intermediate and root certificates")
        }
        let now = at ?? Int64(time(nil))
        for (label, cert) in [("leaf", leaf)] + zip(["intermediate", "root"], chain).map({ ($0, $1) }) {
            guard let validity = cert.validity else {
                v.add("\(label) certificate validity", false, "unreadable validity")
                continue
            }
            let valid = validity.notBefore <= now && now <= validity.notAfter
            v.add(
                "\(label) certificate valid at the verification time",
                valid,
                valid
                    ? ""
                    : "\(cert.subjectCommonName ?? "?") is valid \(Self.date(validity.notBefore)) – \(Self.date(validity.notAfter))"
            )
        }
        let isVLEK = leaf.subjectCommonName == "SEV-VLEK"
        v.add(
            "signing key type matches the certificate",
            report.signingKey == (isVLEK ? 1 : 0),
            "report SIGNING_KEY=\(report.signingKey), certificate \(leaf.subjectCommonName ?? "?")"
        )
        let extensions = VCEKExtensions(leaf)
        let tcb = report.reportedTCB
        let expected: [(String, UInt8, Int?)] = [
            ("blSPL", tcb.bootloader, extensions.bl), ("teeSPL", tcb.tee, extensions.tee),
            ("snpSPL", tcb.snp, extensions.snp), ("ucodeSPL", tcb.microcode, extensions.ucode),
        ]
        for (name, want, have) in expected {
            v.add(
                "certificate \(name) equals REPORTED_TCB",
                have == Int(want),
                "report \(want), certificate \(have.map(String.init) ?? "missing")"
            )
        }
        if !isVLEK {
            let hwid = extensions.hwID ?? []
            let compare = report.product == .turin ? Array(report.chipID.prefix(8)) : report.chipID
            v.add("certificate hwID equals CHIP_ID", !hwid.isEmpty && hwid == compare, "")
        }
        v.add(
            "guest policy is well formed",
            report.policyWellFormed,
            "POLICY 0x\(String(report.policy, radix: 16)): bit 17 must be 1, bits 63:26 zero"
        )
        if forbidDebug { v.add("guest policy forbids debugging", !report.debugAllowed, "POLICY bit 19") }
        return v
    }
}

extension SNPVerifier {
    static func date(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
    }
}

/// The AMD extensions of a VCEK/VLEK certificate (OID 1.3.6.1.4.1.3704.1.*).
public struct VCEKExtensions: Sendable {
    public var bl: Int?, tee: Int?, snp: Int?, ucode: Int?, fmc: Int?
    public var productName: String?
    public var hwID: [UInt8]?

    /// Reads the extensions of `cert`.
    public init(_ cert: Certificate) {
        func integer(_ oid: String) -> Int? {
            guard let v = cert.extensionValue(oid: oid), v.count >= 3, v[0] == 0x02, Int(v[1]) == v.count - 2 else {
                return nil
            }
            return v[2...].reduce(0) { $0 << 8 | Int($1) }
        }
        let base = "1.3.6.1.4.1.3704.1"
        bl = integer("\(base).3.1")
        tee = integer("\(base).3.2")
        snp = integer("\(base).3.3")
        ucode = integer("\(base).3.8")
        fmc = integer("\(base).3.9")
        if let name = cert.extensionValue(oid: "\(base).2"), name.count >= 2, name[0] == 0x16 {
            productName = String(decoding: name[2...], as: UTF8.self)
        }
        if var hw = cert.extensionValue(oid: "\(base).4") {
            // Raw bytes in real VCEKs; some test certificates wrap them in an OCTET STRING.
            if hw.count >= 2, hw[0] == 0x04, Int(hw[1]) == hw.count - 2 { hw = Array(hw[2...]) }
            hwID = hw
        }
    }
}
