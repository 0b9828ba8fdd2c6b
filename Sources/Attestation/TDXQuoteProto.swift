/// Contrast's TDX aTLS evidence: go-tdx-guest `QuoteV4` (OID 1.3.9901.2.2), converted to and from the raw
/// quote bytes so that the same `TDXQuote` parser and `TDXVerifier` check it.
public enum TDXQuoteProto {
    /// Rebuilds the raw v4 quote from the protobuf message.
    public static func decode(_ data: [UInt8]) throws(EvidenceError) -> TDXQuote {
        func fields(_ bytes: [UInt8]) throws(EvidenceError) -> [Int: [Protobuf.Value]] {
            var out: [Int: [Protobuf.Value]] = [:]
            for (f, v) in try Protobuf.decode(bytes) { out[f, default: []].append(v) }
            return out
        }
        func bytes(_ m: [Int: [Protobuf.Value]], _ f: Int, _ size: Int? = nil) throws(EvidenceError) -> [UInt8] {
            guard case .bytes(let b)? = m[f]?.first else { return size.map { [UInt8](repeating: 0, count: $0) } ?? [] }
            if let size, b.count != size { throw EvidenceError("QuoteV4 field \(f) is \(b.count) bytes, expected \(size)") }
            return b
        }
        func message(_ m: [Int: [Protobuf.Value]], _ f: Int) throws(EvidenceError) -> [Int: [Protobuf.Value]] {
            guard case .bytes(let b)? = m[f]?.first else { throw EvidenceError("QuoteV4 message field \(f) missing") }
            return try fields(b)
        }
        func int(_ m: [Int: [Protobuf.Value]], _ f: Int) -> UInt64 {
            if case .varint(let n)? = m[f]?.first { return n }
            return 0
        }
        func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        let top = try fields(data)
        let header = try message(top, 1)
        var raw = le(int(header, 1), 2) + le(int(header, 2), 2) + le(int(header, 3), 4)
        raw += try bytes(header, 4, 2) + bytes(header, 5, 2) + bytes(header, 6, 16) + bytes(header, 7, 20)
        let body = try message(top, 2)
        raw += try bytes(body, 1, 16) + bytes(body, 2, 48) + bytes(body, 3, 48) + bytes(body, 4, 8) + bytes(body, 5, 8)
        raw += try bytes(body, 6, 8) + bytes(body, 7, 48) + bytes(body, 8, 48) + bytes(body, 9, 48) + bytes(body, 10, 48)
        let rtmrs = (body[11] ?? []).compactMap { v -> [UInt8]? in if case .bytes(let b) = v { b } else { nil } }
        guard rtmrs.count == 4, rtmrs.allSatisfy({ $0.count == 48 }) else { throw EvidenceError("QuoteV4 needs 4 RTMRs of 48 bytes") }
        raw += rtmrs.flatMap { $0 } + (try bytes(body, 12, 64))
        let signed = try message(top, 4)
        let certification = try message(signed, 3)
        let qe = try message(certification, 3)
        let report = try message(qe, 1)
        var qeReport = try bytes(report, 1, 16) + le(int(report, 2), 4) + bytes(report, 3, 28) + bytes(report, 4, 16)
        qeReport += try bytes(report, 5, 32) + bytes(report, 6, 32) + bytes(report, 7, 32) + bytes(report, 8, 96)
        qeReport += try le(int(report, 9), 2) + le(int(report, 10), 2) + bytes(report, 11, 60) + bytes(report, 12, 64)
        let auth = try message(qe, 3)
        let authData = try bytes(auth, 2)
        let pck = try message(qe, 4)
        let chain = try bytes(pck, 3)
        var certData = qeReport + (try bytes(qe, 2, 64)) + le(UInt64(authData.count), 2) + authData
        certData += le(5, 2) + le(UInt64(chain.count), 4) + chain
        var signedData = try bytes(signed, 1, 64) + bytes(signed, 2, 64)
        signedData += le(6, 2) + le(UInt64(certData.count), 4) + certData
        raw += le(UInt64(signedData.count), 4) + signedData + (try bytes(top, 5))
        return try TDXQuote(raw)
    }

    /// Encodes a v4 quote as a QuoteV4 message.
    public static func encode(_ q: TDXQuote) throws(EvidenceError) -> [UInt8] {
        guard q.version == 4 else { throw EvidenceError("QuoteV4 encodes version 4 quotes only") }
        let r = q.raw
        func b(_ o: Int, _ n: Int) -> Protobuf.Value { .bytes(Array(r[o..<(o + n)])) }
        func u(_ o: Int, _ n: Int) -> Protobuf.Value {
            .varint((0..<n).reduce(0) { $0 | UInt64(r[o + $1]) << (8 * UInt64($1)) })
        }
        let header = Protobuf.encode([(1, u(0, 2)), (2, u(2, 2)), (3, u(4, 4)), (4, b(8, 2)), (5, b(10, 2)), (6, b(12, 16)), (7, b(28, 20))])
        var bodyFields: [(Int, Protobuf.Value)] = [
            (1, b(0x30, 16)), (2, b(0x40, 48)), (3, b(0x70, 48)), (4, b(0xA0, 8)), (5, b(0xA8, 8)), (6, b(0xB0, 8)),
            (7, b(0xB8, 48)), (8, b(0xE8, 48)), (9, b(0x118, 48)), (10, b(0x148, 48)),
        ]
        for i in 0..<4 { bodyFields.append((11, b(0x178 + 48 * i, 48))) }
        bodyFields.append((12, b(0x238, 64)))
        let qr = q.qeReport
        func qb(_ o: Int, _ n: Int) -> Protobuf.Value { .bytes(Array(qr[o..<(o + n)])) }
        func qu(_ o: Int, _ n: Int) -> Protobuf.Value { .varint((0..<n).reduce(0) { $0 | UInt64(qr[o + $1]) << (8 * UInt64($1)) }) }
        let report = Protobuf.encode([
            (1, qb(0, 16)), (2, qu(0x10, 4)), (3, qb(0x14, 28)), (4, qb(0x30, 16)), (5, qb(0x40, 32)), (6, qb(0x60, 32)),
            (7, qb(0x80, 32)), (8, qb(0xA0, 96)), (9, qu(0x100, 2)), (10, qu(0x102, 2)), (11, qb(0x104, 60)), (12, qb(0x140, 64)),
        ])
        let qe = Protobuf.encode([
            (1, .bytes(report)), (2, .bytes(q.qeSignatureR + q.qeSignatureS)),
            (3, .bytes(Protobuf.encode([(1, .varint(UInt64(q.qeAuthData.count))), (2, .bytes(q.qeAuthData))]))),
            (4, .bytes(Protobuf.encode([(1, .varint(5)), (2, .varint(UInt64(q.pckChainPEM.count))), (3, .bytes(q.pckChainPEM))]))),
        ])
        let certification = Protobuf.encode([(1, .varint(6)), (3, .bytes(qe))])
        let signed = Protobuf.encode([
            (1, .bytes(q.signatureR + q.signatureS)), (2, .bytes(q.attestationKey)), (3, .bytes(certification)),
        ])
        return Protobuf.encode([(1, .bytes(header)), (2, .bytes(Protobuf.encode(bodyFields))), (4, .bytes(signed))])
    }
}
