public import Contrast
public import Crypto

/// Intel PCS collateral for TDX: TCB info and QE identity documents, their signatures, and TCB-level matching.
///
/// Matching rule (go-tdx-guest's `getMatchingTcbLevel`): walk `tcbLevels` in order and take the first level whose
/// 16 SGX components and PCESVN are ≤ the PCK certificate's, and whose TDX components are ≤ TEE_TCB_SVN (all 16,
/// or 2…15 when TEE_TCB_SVN[1] > 0). When TEE_TCB_SVN[1] > 0 the TDX module identity `TDX_%02X` is consulted
/// too: its first level with isvsvn ≤ TEE_TCB_SVN[0]. Both statuses are reported as separate checks (platform and
/// module), so a verifier that combines them and one that reports only the module see the same facts. Accepted
/// statuses: UpToDate.
public struct TDXCollateral {
    /// The TCB info document (`tcbInfo` value).
    public let tcbInfo: JSONValue
    /// The QE identity document (`enclaveIdentity` value).
    public let qeIdentity: JSONValue?
    let tcbInfoSigned: (bytes: [UInt8], signature: [UInt8])
    let qeIdentitySigned: (bytes: [UInt8], signature: [UInt8])?

    /// Reads a TCB info file and, optionally, a QE identity file (PCS v3/v4 JSON, as served).
    public init(tcbInfo: [UInt8], qeIdentity: [UInt8]?) throws {
        tcbInfoSigned = try Self.signedValue(tcbInfo, key: "tcbInfo")
        self.tcbInfo = try JSONValue.parse(tcbInfoSigned.bytes)
        if let qeIdentity {
            let signed = try Self.signedValue(qeIdentity, key: "enclaveIdentity")
            qeIdentitySigned = signed
            self.qeIdentity = try JSONValue.parse(signed.bytes)
        } else {
            qeIdentitySigned = nil
            self.qeIdentity = nil
        }
    }

    /// The exact bytes of the value of `key` (the signed message) and the hex signature after it.
    static func signedValue(_ file: [UInt8], key: String) throws -> (bytes: [UInt8], signature: [UInt8]) {
        let prefix = Array("{\"\(key)\":".utf8)
        let marker = Array(",\"signature\":\"".utf8)
        guard file.starts(with: prefix), let m = file.lastRange(of: marker) else {
            throw EvidenceError("collateral: expected {\"\(key)\":…,\"signature\":\"…\"}")
        }
        let value = Array(file[prefix.count..<m.lowerBound])
        let rest = file[m.upperBound...]
        guard let end = rest.firstIndex(of: UInt8(ascii: "\"")),
            let signature = Digest(hex: String(decoding: rest[rest.startIndex..<end], as: UTF8.self)), signature.bytes.count == 64
        else { throw EvidenceError("collateral: signature must be 64 bytes of hex") }
        return (value, signature.bytes)
    }

    /// Checks the documents' signatures (with the TCB signing certificate, itself checked against the pinned Intel
    /// root) and evaluates the quote's TCB and QE against them.
    public func verify(_ quote: TDXQuote, signingChain: [Certificate], at: Int64) -> Verdict {
        var v = Verdict()
        guard signingChain.count >= 2 else {
            v.add("TCB signing chain", false, "need the TCB signing certificate and the root")
            return v
        }
        let (signer, root) = (signingChain[0], signingChain[1])
        v.add("TCB signing chain ends at the pinned Intel root", SHA256.hash(root.der).hex == TDXVerifier.rootPin)
        v.add("TCB signing certificate signed by the root", signer.isSigned(by: root), signer.subjectCommonName ?? "")
        v.add(
            "TCB info signature",
            signer.verifyECDSA(message: tcbInfoSigned.bytes, r: Array(tcbInfoSigned.signature.prefix(32)),
                s: Array(tcbInfoSigned.signature.suffix(32)), hash: .sha256))
        guard let leaf = try? Certificate.pemChain(quote.pckChainPEM).first, let pck = try? PCKExtensions(leaf) else {
            v.add("PCK extensions", false, "cannot read the PCK certificate's SGX extension")
            return v
        }
        let fmspc = Digest(bytes: pck.fmspc).hex
        v.add("TCB info FMSPC matches the PCK", tcbInfo["fmspc"]?.string?.lowercased() == fmspc, fmspc)
        v.add("TCB info PCE-ID matches the PCK", tcbInfo["pceId"]?.string?.lowercased() == Digest(bytes: pck.pceID).hex)
        let svn = quote.teeTCBSVN
        let skip = svn[1] > 0 ? 2 : 0
        let level = (tcbInfo["tcbLevels"]?.array ?? []).first { level in
            let sgx = level["tcb"]?["sgxtcbcomponents"]?.array?.map { $0["svn"]?.number ?? 0 } ?? []
            let tdx = level["tcb"]?["tdxtcbcomponents"]?.array?.map { $0["svn"]?.number ?? 0 } ?? []
            guard sgx.count == 16, tdx.count == 16, let pce = level["tcb"]?["pcesvn"]?.number else { return false }
            return (0..<16).allSatisfy { Int64(pck.tcbComponents[$0]) >= sgx[$0] } && Int64(pck.pceSVN) >= pce
                && (skip..<16).allSatisfy { Int64(svn[$0]) >= tdx[$0] }
        }
        if let level {
            let status = level["tcbStatus"]?.string ?? "?"
            v.add("platform TCB level", status == "UpToDate", "\(status) (\(level["tcbDate"]?.string ?? "?"))")
        } else {
            v.add("platform TCB level", false, "no matching TCB level")
        }
        if svn[1] > 0 {
            let id = "TDX_" + String(format2(svn[1]))
            let identity = tcbInfo["tdxModuleIdentities"]?.array?.first { $0["id"]?.string == id }
            let moduleLevel = identity?["tcbLevels"]?.array?.first { Int64(svn[0]) >= ($0["tcb"]?["isvsvn"]?.number ?? Int64.max) }
            let status = moduleLevel?["tcbStatus"]?.string
            v.add("TDX module \(id) TCB level", status == "UpToDate", status ?? "no matching module level")
        }
        if let qeIdentity, let signed = qeIdentitySigned {
            v.add(
                "QE identity signature",
                signer.verifyECDSA(message: signed.bytes, r: Array(signed.signature.prefix(32)), s: Array(signed.signature.suffix(32)), hash: .sha256))
            let qr = quote.qeReport
            let mrsigner = Digest(bytes: Array(qr[0x80..<0xA0])).hex
            v.add("QE MRSIGNER", qeIdentity["mrsigner"]?.string?.lowercased() == mrsigner, mrsigner)
            let prodID = Int64(qr[0x100]) | Int64(qr[0x101]) << 8
            v.add("QE ISVPRODID", qeIdentity["isvprodid"]?.number == prodID, "\(prodID)")
            let isvsvn = Int64(qr[0x102]) | Int64(qr[0x103]) << 8
            let qeLevel = qeIdentity["tcbLevels"]?.array?.first { ($0["tcb"]?["isvsvn"]?.number ?? Int64.max) <= isvsvn }
            let status = qeLevel?["tcbStatus"]?.string
            v.add("QE identity TCB level", status == "UpToDate", status ?? "no matching QE level")
        }
        return v
    }

    private func format2(_ b: UInt8) -> String {
        let s = String(b, radix: 16, uppercase: true)
        return s.count == 1 ? "0" + s : s
    }
}
