internal import COpenSSL
internal import COpenSSLShims

/// A decoded ASN.1 value, produced by OpenSSL's generic decoder (`d2i_ASN1_SEQUENCE_ANY`); used to read
/// vendor extensions such as Intel's SGX PCK extension without hand-written DER parsing.
public indirect enum ASN1Value: Sendable, Equatable {
    case sequence([ASN1Value])
    case oid(String)
    case integer(Int64)
    case octetString([UInt8])
    case boolean(Bool)
    case enumerated(Int64)
    case other(Int32)

    /// Decodes the DER encoding of a SEQUENCE.
    public static func sequence(der: [UInt8]) throws(CryptoError) -> ASN1Value {
        let items: [ASN1Value]? = der.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> [ASN1Value]? in
            var p: UnsafePointer<UInt8>? = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            guard p != nil, let stack = d2i_ASN1_SEQUENCE_ANY(nil, &p, buffer.count) else { return nil }
            defer { COpenSSLShims_sk_ASN1_TYPE_pop_free(stack) }
            var out: [ASN1Value] = []
            for i in 0..<COpenSSLShims_sk_ASN1_TYPE_num(stack) {
                guard let t = COpenSSLShims_sk_ASN1_TYPE_value(stack, i) else { return nil }
                guard let v = convert(t) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let items else { throw CryptoError("decode ASN.1 SEQUENCE") }
        return .sequence(items)
    }

    static func convert(_ t: UnsafeMutablePointer<ASN1_TYPE>) -> ASN1Value? {
        let type = t.pointee.type
        switch type {
        case V_ASN1_SEQUENCE:
            guard let s = t.pointee.value.sequence, let data = ASN1_STRING_get0_data(s) else { return nil }
            return try? sequence(der: Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(s)))))
        case V_ASN1_OBJECT:
            var buffer = [CChar](repeating: 0, count: 128)
            let n = OBJ_obj2txt(&buffer, Int32(buffer.count), t.pointee.value.object, 1)
            guard n > 0 else { return nil }
            return .oid(String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case V_ASN1_INTEGER:
            return .integer(Int64(ASN1_INTEGER_get(t.pointee.value.integer)))
        case V_ASN1_ENUMERATED:
            return .enumerated(Int64(ASN1_ENUMERATED_get(t.pointee.value.enumerated)))
        case V_ASN1_OCTET_STRING:
            guard let s = t.pointee.value.octet_string else { return nil }
            let length = Int(ASN1_STRING_length(s))
            guard let data = ASN1_STRING_get0_data(s) else { return .octetString([]) }
            return .octetString(Array(UnsafeBufferPointer(start: data, count: length)))
        case V_ASN1_BOOLEAN:
            return .boolean(t.pointee.value.boolean != 0)
        default:
            return .other(type)
        }
    }

    /// For a SEQUENCE of {OID, value} pairs: the value of the pair with `oid`.
    public func value(forOID oid: String) -> ASN1Value? {
        guard case .sequence(let items) = self else { return nil }
        for item in items {
            if case .sequence(let pair) = item, pair.count == 2, pair[0] == .oid(oid) { return pair[1] }
        }
        return nil
    }
}
