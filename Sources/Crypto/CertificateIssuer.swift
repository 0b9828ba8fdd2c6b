internal import COpenSSL
internal import COpenSSLShims
import Foundation

/// What a new certificate should say.
public struct CertificateTemplate: Sendable {
    /// Subject common name.
    public var commonName: String
    /// Serial number.
    public var serial: UInt64
    /// Validity, seconds since 1970.
    public var notBefore: Int64, notAfter: Int64
    /// A CA certificate (BasicConstraints CA:TRUE, keyCertSign, cRLSign).
    public var isCA = false
    /// Subject alternative names in OpenSSL form: `DNS:web`, `DNS:*`, `IP:203.0.113.7`, `URI:spiffe://x`.
    public var subjectAltNames: [String] = []
    /// Extended key usages for leaves (default server and client authentication).
    public var extendedKeyUsage = ["serverAuth", "clientAuth"]
    /// Extra extensions: dotted OID and the raw extnValue content (not re-encoded).
    public var rawExtensions: [(oid: String, value: [UInt8])] = []

    /// Creates a template.
    public init(commonName: String, serial: UInt64, notBefore: Int64, notAfter: Int64) {
        self.commonName = commonName
        self.serial = serial
        self.notBefore = notBefore
        self.notAfter = notAfter
    }
}

/// Issues X.509 certificates with OpenSSL.
public enum CertificateIssuer {
    /// Signature scheme for the issuer key.
    public enum Signature: Sendable {
        /// ECDSA or RSA PKCS#1 v1.5 with the given digest.
        case standard(HashAlgorithm)
        /// RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48 (AMD's scheme).
        case rsaPSSSHA384
    }

    /// Issues a certificate for `subjectKey`, signed by `issuerKey` (self-signed when `issuer` is nil).
    public static func issue(
        _ t: CertificateTemplate,
        subjectKey: PrivateKey,
        issuer: Certificate?,
        issuerKey: PrivateKey,
        signature: Signature = .standard(.sha256)
    ) throws(CryptoError) -> Certificate {
        try issue(t, subjectPKey: subjectKey.pkey, issuer: issuer, issuerKey: issuerKey, signature: signature)
    }

    /// Issues a certificate for an EC public key given as DER SubjectPublicKeyInfo, without parsing it into an
    /// OpenSSL key object (the point is still checked to lie on its curve). Throws for non-EC or invalid keys.
    public static func issue(
        _ t: CertificateTemplate,
        subjectPublicKeyInfo spki: [UInt8],
        issuer: Certificate,
        issuerKey: PrivateKey,
        signature: Signature = .standard(.sha256)
    ) throws(CryptoError) -> Certificate {
        try issue(t, subjectPKey: nil, spki: spki, issuer: issuer, issuerKey: issuerKey, signature: signature)
    }

    static func issue(
        _ t: CertificateTemplate,
        subjectPKey: OpaquePointer?,
        spki: [UInt8] = [],
        issuer: Certificate?,
        issuerKey: PrivateKey,
        signature: Signature
    ) throws(CryptoError) -> Certificate {
        guard let x = X509_new() else { throw CryptoError("X509_new") }
        let cert = Certificate(taking: x)
        X509_set_version(x, 2)
        guard let serial = BN_new() else { throw CryptoError("BN_new") }
        defer { BN_free(serial) }
        BN_set_word(serial, UInt(t.serial))
        BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x))
        ASN1_TIME_set(X509_getm_notBefore(x), time_t(t.notBefore))
        ASN1_TIME_set(X509_getm_notAfter(x), time_t(t.notAfter))
        if let subjectPKey {
            guard X509_set_pubkey(x, subjectPKey) == 1 else { throw CryptoError("X509_set_pubkey") }
        } else {
            guard COpenSSLShims_X509_set_ec_spki(x, spki, spki.count) == 1 else {
                throw CryptoError("subject public key is not a valid EC SubjectPublicKeyInfo")
            }
        }
        guard let name = X509_NAME_new() else { throw CryptoError("X509_NAME_new") }
        defer { X509_NAME_free(name) }
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, t.commonName, -1, -1, 0)
        X509_set_subject_name(x, name)
        X509_set_issuer_name(x, issuer.map { X509_get_subject_name($0.x509) } ?? name)
        var ctx = X509V3_CTX()
        X509V3_set_ctx(&ctx, issuer?.x509 ?? x, x, nil, nil, 0)
        var extensions: [(Int32, String)] = [(NID_subject_key_identifier, "hash")]
        if issuer != nil { extensions.append((NID_authority_key_identifier, "keyid:always")) }
        if t.isCA {
            extensions += [
                (NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
            ]
        } else {
            extensions += [
                (NID_basic_constraints, "critical,CA:FALSE"),
                (NID_key_usage, "critical,digitalSignature,keyEncipherment"),
            ]
            if !t.extendedKeyUsage.isEmpty {
                extensions.append((NID_ext_key_usage, t.extendedKeyUsage.joined(separator: ",")))
            }
        }
        if !t.subjectAltNames.isEmpty {
            extensions.append((NID_subject_alt_name, t.subjectAltNames.joined(separator: ",")))
        }
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &ctx, nid, value) else {
                throw CryptoError("extension \(String(cString: OBJ_nid2sn(nid))) = \(value)")
            }
            X509_add_ext(x, ext, -1)
            X509_EXTENSION_free(ext)
        }
        for (oid, value) in t.rawExtensions {
            guard let obj = OBJ_txt2obj(oid, 1), let data = ASN1_OCTET_STRING_new() else {
                throw CryptoError("extension \(oid)")
            }
            defer {
                ASN1_OBJECT_free(obj)
                ASN1_OCTET_STRING_free(data)
            }
            ASN1_OCTET_STRING_set(data, value, Int32(value.count))
            guard let ext = X509_EXTENSION_create_by_OBJ(nil, obj, 0, data) else {
                throw CryptoError("extension \(oid)")
            }
            X509_add_ext(x, ext, -1)
            X509_EXTENSION_free(ext)
        }
        switch signature {
        case .standard(let hash):
            let md = hash.evpMD
            guard X509_sign(x, issuerKey.pkey, md) > 0 else { throw CryptoError("X509_sign") }
        case .rsaPSSSHA384:
            guard let mdctx = EVP_MD_CTX_new() else { throw CryptoError("EVP_MD_CTX_new") }
            defer { EVP_MD_CTX_free(mdctx) }
            var pctx: OpaquePointer?
            guard EVP_DigestSignInit(mdctx, &pctx, EVP_sha384(), nil, issuerKey.pkey) == 1,
                EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1,
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1,
                EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1,
                X509_sign_ctx(x, mdctx) > 0
            else { throw CryptoError("RSA-PSS certificate signature") }
        }
        return cert
    }
}

extension Certificate {
    /// Verifies this certificate against a trusted root and intermediates with OpenSSL's path validation at
    /// time `at` (seconds since 1970). Returns nil when valid, else OpenSSL's reason.
    public func verify(root: Certificate, intermediates: [Certificate] = [], at: Int64) -> String? {
        guard let store = X509_STORE_new(), let ctx = X509_STORE_CTX_new() else { return "out of memory" }
        defer {
            X509_STORE_CTX_free(ctx)
            X509_STORE_free(store)
        }
        X509_STORE_add_cert(store, root.x509)
        guard let untrusted = OPENSSL_sk_new_null() else { return "out of memory" }
        defer { OPENSSL_sk_free(untrusted) }
        for c in intermediates { OPENSSL_sk_push(untrusted, UnsafeRawPointer(c.x509)) }
        guard X509_STORE_CTX_init(ctx, store, x509, untrusted) == 1 else { return "X509_STORE_CTX_init failed" }
        X509_STORE_CTX_set_time(ctx, 0, time_t(at))
        let ok = X509_verify_cert(ctx) == 1
        defer { ERR_clear_error() }
        return ok ? nil : String(cString: X509_verify_cert_error_string(Int(X509_STORE_CTX_get_error(ctx))))
    }

    /// PEM text of the certificate.
    public var pem: String {
        let der = self.der
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
    }
}
