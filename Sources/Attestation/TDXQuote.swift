/// An Intel TDX DCAP quote, version 4 or 5 (TDX 1.0 and 1.5 bodies), with its ECDSA certification data.
public struct TDXQuote: Sendable {
    /// The raw quote (only the signed data counts; trailing padding is ignored).
    public let raw: [UInt8]
    public let version: UInt16
    public let attestationKeyType: UInt16
    public let teeType: UInt32
    public let qeVendorID: [UInt8]
    public let userData: [UInt8]
    /// Body type for v5 (2 = TDX 1.0, 3 = TDX 1.5); 2 for v4.
    public let bodyType: UInt16
    public let teeTCBSVN: [UInt8], mrSeam: [UInt8], mrSignerSeam: [UInt8]
    public let seamAttributes: UInt64, tdAttributes: UInt64, xfam: UInt64
    public let mrTD: [UInt8], mrConfigID: [UInt8], mrOwner: [UInt8], mrOwnerConfig: [UInt8]
    public let rtmrs: [[UInt8]]
    public let reportData: [UInt8]
    /// TDX 1.5 only.
    public let teeTCBSVN2: [UInt8]?, mrServiceTD: [UInt8]?
    /// Length of the signed region `[0, signedLength)`.
    public let signedLength: Int
    /// Quote signature r and s (big-endian, 32 bytes each).
    public let signatureR: [UInt8], signatureS: [UInt8]
    /// The attestation key, raw X‖Y.
    public let attestationKey: [UInt8]
    /// The QE report (384 bytes) and its signature r, s.
    public let qeReport: [UInt8], qeSignatureR: [UInt8], qeSignatureS: [UInt8]
    /// QE authentication data.
    public let qeAuthData: [UInt8]
    /// The PCK certificate chain PEM (leaf, intermediate, root).
    public let pckChainPEM: [UInt8]

    /// TD attributes bit 0.
    public var debug: Bool { tdAttributes & 1 != 0 }

    /// Parses a quote.
    public init(_ q: [UInt8]) throws(EvidenceError) {
        func need(_ end: Int, _ what: String) throws(EvidenceError) {
            if q.count < end { throw EvidenceError("TDX quote truncated in \(what) (\(q.count) bytes)") }
        }
        func u16(_ o: Int) -> UInt16 { UInt16(q[o]) | UInt16(q[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(q[o + $1]) << (8 * UInt32($1)) } }
        func u64(_ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(q[o + $1]) << (8 * UInt64($1)) } }
        func bytes(_ o: Int, _ n: Int) -> [UInt8] { Array(q[o..<(o + n)]) }
        try need(0x30, "header")
        version = u16(0)
        attestationKeyType = u16(2)
        teeType = u32(4)
        qeVendorID = bytes(0x0C, 16)
        userData = bytes(0x1C, 20)
        guard version == 4 || version == 5 else { throw EvidenceError("unsupported TDX quote version \(version)") }
        guard attestationKeyType == 2 else { throw EvidenceError("unsupported attestation key type \(attestationKeyType)") }
        guard teeType == 0x81 else { throw EvidenceError("not a TDX quote (TEE type 0x\(String(teeType, radix: 16)))") }
        let body: Int
        let bodySize: Int
        if version == 4 {
            body = 0x30
            bodySize = 584
            bodyType = 2
        } else {
            try need(0x36, "body header")
            bodyType = u16(0x30)
            bodySize = Int(u32(0x32))
            body = 0x36
            guard (bodyType == 2 && bodySize == 584) || (bodyType == 3 && bodySize == 648) else {
                throw EvidenceError("unsupported TDX body type \(bodyType) of \(bodySize) bytes")
            }
        }
        try need(body + bodySize + 4, "body")
        teeTCBSVN = bytes(body, 16)
        mrSeam = bytes(body + 0x10, 48)
        mrSignerSeam = bytes(body + 0x40, 48)
        seamAttributes = u64(body + 0x70)
        tdAttributes = u64(body + 0x78)
        xfam = u64(body + 0x80)
        mrTD = bytes(body + 0x88, 48)
        mrConfigID = bytes(body + 0xB8, 48)
        mrOwner = bytes(body + 0xE8, 48)
        mrOwnerConfig = bytes(body + 0x118, 48)
        rtmrs = (0..<4).map { bytes(body + 0x148 + 48 * $0, 48) }
        reportData = bytes(body + 0x208, 64)
        teeTCBSVN2 = bodyType == 3 ? bytes(body + 584, 16) : nil
        mrServiceTD = bodyType == 3 ? bytes(body + 600, 48) : nil
        signedLength = body + bodySize
        let sigSize = Int(u32(signedLength))
        var o = signedLength + 4
        try need(o + sigSize, "signature data")
        try need(o + 134, "certification data")
        signatureR = bytes(o, 32)
        signatureS = bytes(o + 32, 32)
        attestationKey = bytes(o + 64, 64)
        guard u16(o + 128) == 6 else { throw EvidenceError("expected QE report certification data (type 6)") }
        o += 134
        try need(o + 384 + 64 + 2, "QE report")
        qeReport = bytes(o, 384)
        qeSignatureR = bytes(o + 384, 32)
        qeSignatureS = bytes(o + 416, 32)
        let authSize = Int(u16(o + 448))
        o += 450
        try need(o + authSize + 6, "QE auth data")
        qeAuthData = bytes(o, authSize)
        o += authSize
        guard u16(o) == 5 else { throw EvidenceError("expected a PCK certificate chain (certification data type 5)") }
        let chainSize = Int(u32(o + 2))
        o += 6
        try need(o + chainSize, "PCK certificate chain")
        pckChainPEM = bytes(o, chainSize)
        raw = q
    }

    /// The signed bytes.
    public var signedBytes: [UInt8] { Array(raw.prefix(signedLength)) }
}
