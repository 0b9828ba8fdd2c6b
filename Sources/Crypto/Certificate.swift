internal import COpenSSL
internal import COpenSSLShims

/// An X.509 certificate held by OpenSSL. One owner of the `X509*`.
public final class Certificate {
    let x509: OpaquePointer

    init(taking x509: OpaquePointer) {
        self.x509 = x509
    }

    deinit {
        X509_free(x509)
    }

    /// Parses a DER certificate.
    public convenience init(der: [UInt8]) throws(CryptoError) {
        let cert: OpaquePointer? = der.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> OpaquePointer? in
            var p: UnsafePointer<UInt8>? = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            guard p != nil else { return nil }
            return d2i_X509(nil, &p, buffer.count)
        }
        guard let cert else { throw CryptoError("parse DER certificate") }
        self.init(taking: cert)
    }

    /// Parses every certificate of a PEM bundle, in order.
    public static func pemChain(_ pem: [UInt8]) throws(CryptoError) -> [Certificate] {
        let certs: [OpaquePointer] = pem.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return [] }
            defer { BIO_free(bio) }
            var out: [OpaquePointer] = []
            while let cert = PEM_read_bio_X509(bio, nil, nil, nil) { out.append(cert) }
            ERR_clear_error()  // the loop ends with a "no start line" error
            return out
        }
        guard !certs.isEmpty else { throw CryptoError("no PEM certificate found") }
        return certs.map(Certificate.init(taking:))
    }

    /// The DER encoding.
    public var der: [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let n = i2d_X509(x509, &out)
        guard n > 0, let out else { return [] }
        defer { COpenSSLShims_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }

    /// The subject's common name.
    public var subjectCommonName: String? { Self.commonName(X509_get_subject_name(x509)) }
    /// The issuer's common name.
    public var issuerCommonName: String? { Self.commonName(X509_get_issuer_name(x509)) }

    private static func commonName(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        let n = X509_NAME_get_text_by_NID(name, NID_commonName, &buffer, Int32(buffer.count))
        guard n >= 0 else { return nil }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when this certificate's signature verifies with `issuer`'s public key (any algorithm OpenSSL
    /// supports, including RSASSA-PSS with the parameters carried in the certificate).
    public func isSigned(by issuer: Certificate) -> Bool {
        guard let key = X509_get0_pubkey(issuer.x509) else { return false }
        let ok = X509_verify(x509, key) == 1
        ERR_clear_error()
        return ok
    }

    /// Validity as seconds since 1970.
    public var validity: (notBefore: Int64, notAfter: Int64)? {
        guard let nb = X509_get0_notBefore(x509), let na = X509_get0_notAfter(x509) else { return nil }
        func seconds(_ t: UnsafePointer<ASN1_TIME>?) -> Int64? {
            var tm = tm()
            guard ASN1_TIME_to_tm(t, &tm) == 1 else { return nil }
            return Int64(timegm(&tm))
        }
        guard let a = seconds(nb), let b = seconds(na) else { return nil }
        return (a, b)
    }

    /// Verifies an ECDSA signature given as big-endian r and s over `message`, hashed with `hash`, with
    /// this certificate's public key.
    public func verifyECDSA(message: [UInt8], r: [UInt8], s: [UInt8], hash: HashAlgorithm) -> Bool {
        guard let key = X509_get0_pubkey(x509) else { return false }
        return ECDSAVerifier.verify(key: key, message: message, r: r, s: s, hash: hash)
    }

    /// The raw content of the extension with the given dotted OID (the extnValue OCTET STRING's content).
    public func extensionValue(oid: String) -> [UInt8]? {
        guard let obj = OBJ_txt2obj(oid, 1) else { return nil }
        defer { ASN1_OBJECT_free(obj) }
        let index = X509_get_ext_by_OBJ(x509, obj, -1)
        guard index >= 0, let ext = X509_get_ext(x509, index), let data = X509_EXTENSION_get_data(ext) else {
            return nil
        }
        let length = Int(ASN1_STRING_length(data))
        guard let bytes = ASN1_STRING_get0_data(data) else { return [] }
        return Array(UnsafeBufferPointer(start: bytes, count: length))
    }
}

@available(*, unavailable)
extension Certificate: Sendable {}

/// ECDSA verification with raw (r, s) signatures.
enum ECDSAVerifier {
    static func verify(key: OpaquePointer, message: [UInt8], r: [UInt8], s: [UInt8], hash: HashAlgorithm) -> Bool {
        defer { ERR_clear_error() }
        guard let sig = ECDSA_SIG_new() else { return false }
        defer { ECDSA_SIG_free(sig) }
        guard let bnR = BN_bin2bn(r, Int32(r.count), nil), let bnS = BN_bin2bn(s, Int32(s.count), nil) else {
            return false
        }
        guard ECDSA_SIG_set0(sig, bnR, bnS) == 1 else {
            BN_free(bnR)
            BN_free(bnS)
            return false
        }
        var der: UnsafeMutablePointer<UInt8>?
        let n = i2d_ECDSA_SIG(sig, &der)
        guard n > 0, let der else { return false }
        defer { COpenSSLShims_free(der) }
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        let md = hash.evpMD
        guard EVP_DigestVerifyInit(ctx, nil, md, nil, key) == 1 else { return false }
        return EVP_DigestVerify(ctx, der, Int(n), message, message.count) == 1
    }
}
