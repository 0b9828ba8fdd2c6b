/// A minimal protobuf wire-format reader and writer (varint, fixed32/64 and length-delimited fields), enough
/// for the go-sev-guest `Attestation` and go-tdx-guest `QuoteV4` messages Contrast puts into aTLS certificates.
public enum Protobuf {
    /// One decoded field.
    public enum Value: Sendable, Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes([UInt8])
        case fixed32(UInt32)
    }

    /// Decodes a message into (field number, value) pairs in wire order.
    public static func decode(_ data: [UInt8]) throws(EvidenceError) -> [(Int, Value)] {
        var out: [(Int, Value)] = []
        var i = 0
        func varint() throws(EvidenceError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard i < data.count else { throw EvidenceError("protobuf: truncated varint") }
                guard shift < 64 else { throw EvidenceError("protobuf: varint too long") }
                let b = data[i]
                i += 1
                result |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
        }
        while i < data.count {
            let key = try varint()
            let field = Int(key >> 3)
            guard field > 0 else { throw EvidenceError("protobuf: field number 0") }
            switch key & 7 {
            case 0: out.append((field, .varint(try varint())))
            case 1:
                guard i + 8 <= data.count else { throw EvidenceError("protobuf: truncated fixed64") }
                out.append((field, .fixed64((0..<8).reduce(0) { $0 | UInt64(data[i + $1]) << (8 * UInt64($1)) })))
                i += 8
            case 2:
                let length = try varint()
                guard length <= UInt64(data.count - i) else { throw EvidenceError("protobuf: truncated bytes field \(field)") }
                out.append((field, .bytes(Array(data[i..<(i + Int(length))]))))
                i += Int(length)
            case 5:
                guard i + 4 <= data.count else { throw EvidenceError("protobuf: truncated fixed32") }
                out.append((field, .fixed32((0..<4).reduce(0) { $0 | UInt32(data[i + $1]) << (8 * UInt32($1)) })))
                i += 4
            default: throw EvidenceError("protobuf: unsupported wire type \(key & 7)")
            }
        }
        return out
    }

    /// Encodes fields (varints and length-delimited only: what the writers here need).
    public static func encode(_ fields: [(Int, Value)]) -> [UInt8] {
        var out: [UInt8] = []
        func varint(_ v: UInt64) {
            var v = v
            while v >= 0x80 {
                out.append(UInt8(v & 0x7f) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        for (field, value) in fields {
            switch value {
            case .varint(let v):
                varint(UInt64(field) << 3)
                varint(v)
            case .bytes(let b):
                varint(UInt64(field) << 3 | 2)
                varint(UInt64(b.count))
                out += b
            case .fixed64(let v):
                varint(UInt64(field) << 3 | 1)
                out += (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
            case .fixed32(let v):
                varint(UInt64(field) << 3 | 5)
                out += (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) }
            }
        }
        return out
    }
}

/// Contrast's SEV-SNP aTLS evidence: go-sev-guest `Attestation` {1 report, 2 certificate chain, 3 product}.
public struct SNPAttestation: Sendable {
    /// The report, rebuilt as the 1184 raw bytes the signature covers.
    public var report: SNPReport
    /// DER certificates from the chain (absent ones are nil).
    public var vcek: [UInt8]?, ask: [UInt8]?, ark: [UInt8]?, vlek: [UInt8]?
    /// Product from `SevProduct.name` (1 Milan, 2 Genoa, 3 Turin).
    public var product: SNPReport.Product?

    /// Report field number → (offset, size) for the integer and byte fields.
    static let layout: [Int: (Int, Int)] = [
        1: (0x000, 4), 2: (0x004, 4), 3: (0x008, 8), 4: (0x010, 16), 5: (0x020, 16), 6: (0x030, 4), 7: (0x034, 4),
        8: (0x038, 8), 9: (0x040, 8), 10: (0x048, 4), 11: (0x050, 64), 12: (0x090, 48), 13: (0x0C0, 32),
        14: (0x0E0, 48), 15: (0x110, 48), 16: (0x140, 32), 17: (0x160, 32), 18: (0x180, 8), 19: (0x1A0, 64),
        20: (0x1E0, 8), 21: (0x1E8, 1), 22: (0x1E9, 1), 23: (0x1EA, 1), 24: (0x1EC, 1), 25: (0x1ED, 1), 26: (0x1EE, 1),
        27: (0x1F0, 8), 28: (0x2A0, 512), 30: (0x1F8, 8), 31: (0x200, 8),
    ]

    /// Decodes the protobuf bytes of the certificate extension (OID 1.3.9901.2.1).
    public init(protobuf data: [UInt8]) throws(EvidenceError) {
        var raw = [UInt8](repeating: 0, count: SNPReport.size)
        var reportSeen = false
        for (field, value) in try Protobuf.decode(data) {
            switch (field, value) {
            case (1, .bytes(let message)):
                reportSeen = true
                for (f, v) in try Protobuf.decode(message) {
                    if f == 29, case .varint(let fms) = v {
                        // CPUID(1).EAX → CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP.
                        let base = UInt8((fms >> 8) & 0xf)
                        raw[0x188] = base + (base == 0xf ? UInt8((fms >> 20) & 0xff) : 0)
                        raw[0x189] = UInt8((fms >> 16) & 0xf) << 4 | UInt8((fms >> 4) & 0xf)
                        raw[0x18A] = UInt8(fms & 0xf)
                        continue
                    }
                    guard let (offset, size) = Self.layout[f] else { continue }
                    switch v {
                    case .varint(let n):
                        for b in 0..<min(size, 8) { raw[offset + b] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(b))) }
                    case .bytes(let b):
                        guard b.count <= size else { throw EvidenceError("SNP report field \(f) is \(b.count) bytes, at most \(size)") }
                        raw.replaceSubrange(offset..<(offset + b.count), with: b)
                    default:
                        throw EvidenceError("SNP report field \(f) has an unexpected wire type")
                    }
                }
            case (2, .bytes(let message)):
                for (f, v) in try Protobuf.decode(message) {
                    guard case .bytes(let der) = v else { continue }
                    switch f {
                    case 1: vcek = der
                    case 2: ask = der
                    case 3: ark = der
                    case 6: vlek = der
                    default: break
                    }
                }
            case (3, .bytes(let message)):
                for (f, v) in try Protobuf.decode(message) where f == 1 {
                    if case .varint(let n) = v { product = [1: .milan, 2: .genoa, 3: .turin][n] }
                }
            default:
                break
            }
        }
        guard reportSeen else { throw EvidenceError("SNP attestation has no report") }
        report = try SNPReport(raw, product: product)
    }

    /// Encodes a raw report (and certificates) in the same message format.
    public static func encode(_ report: SNPReport, vcek: [UInt8]? = nil, product: SNPReport.Product? = nil) -> [UInt8] {
        var fields: [(Int, Protobuf.Value)] = []
        for f in layout.keys.sorted() {
            guard let (offset, size) = layout[f] else { continue }
            let bytes = Array(report.raw[offset..<(offset + size)])
            if size <= 8 && f != 28 {
                fields.append((f, .varint(bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })))
            } else {
                fields.append((f, .bytes(bytes)))
            }
        }
        if let (family, model, stepping) = report.cpuid {
            let baseFamily = min(family, 0xf)
            let fms = UInt64(stepping) | UInt64(model & 0xf) << 4 | UInt64(baseFamily) << 8 | UInt64(model >> 4) << 16
                | UInt64(family - baseFamily) << 20
            fields.append((29, .varint(fms)))
        }
        var top: [(Int, Protobuf.Value)] = [(1, .bytes(Protobuf.encode(fields)))]
        if let vcek { top.append((2, .bytes(Protobuf.encode([(1, .bytes(vcek))])))) }
        if let product { top.append((3, .bytes(Protobuf.encode([(1, .varint([.milan: 1, .genoa: 2, .turin: 3][product] ?? 0))])))) }
        return Protobuf.encode(top)
    }
}
