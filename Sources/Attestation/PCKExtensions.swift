public import Crypto

/// Intel's SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): PPID, TCB components, PCESVN, CPUSVN,
/// PCE-ID, FMSPC and SGX type. Decoded with OpenSSL's generic ASN.1 decoder.
public struct PCKExtensions: Sendable, Equatable {
    static let base = "1.2.840.113741.1.13.1"

    public var ppid: [UInt8]
    /// SGX TCB component SVNs 1–16.
    public var tcbComponents: [Int]
    public var pceSVN: Int
    public var cpuSVN: [UInt8]
    public var pceID: [UInt8]
    public var fmspc: [UInt8]
    /// 0 standard, 1 scalable.
    public var sgxType: Int

    /// Reads the extension of a PCK leaf certificate.
    public init(_ cert: Certificate) throws(EvidenceError) {
        guard let der = cert.extensionValue(oid: Self.base),
            let root = try? ASN1Value.sequence(der: der)
        else { throw EvidenceError("PCK certificate has no SGX extension") }
        func octets(_ v: ASN1Value?, _ name: String) throws(EvidenceError) -> [UInt8] {
            guard case .octetString(let b)? = v else { throw EvidenceError("PCK extension: missing \(name)") }
            return b
        }
        ppid = try octets(root.value(forOID: "\(Self.base).1"), "PPID")
        guard let tcb = root.value(forOID: "\(Self.base).2") else { throw EvidenceError("PCK extension: missing TCB") }
        var components: [Int] = []
        for i in 1...16 {
            guard case .integer(let n)? = tcb.value(forOID: "\(Self.base).2.\(i)") else {
                throw EvidenceError("PCK extension: missing TCB component \(i)")
            }
            components.append(Int(n))
        }
        tcbComponents = components
        guard case .integer(let pce)? = tcb.value(forOID: "\(Self.base).2.17") else { throw EvidenceError("PCK extension: missing PCESVN") }
        pceSVN = Int(pce)
        cpuSVN = try octets(tcb.value(forOID: "\(Self.base).2.18"), "CPUSVN")
        pceID = try octets(root.value(forOID: "\(Self.base).3"), "PCE-ID")
        fmspc = try octets(root.value(forOID: "\(Self.base).4"), "FMSPC")
        switch root.value(forOID: "\(Self.base).5") {
        case .enumerated(let n)?, .integer(let n)?: sgxType = Int(n)
        default: throw EvidenceError("PCK extension: missing SGX type")
        }
    }
}
