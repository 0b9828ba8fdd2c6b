internal import COpenSSL
internal import COpenSSLShims

/// An asymmetric private key held by OpenSSL (`EVP_PKEY`), with the PEM/DER encodings Contrast uses.
public final class PrivateKey {
    let pkey: OpaquePointer

    /// Key types contrast-pipe creates.
    public enum Kind: Sendable {
        /// ECDSA on P-256 / P-384.
        case ecdsa(curve: String)
        /// RSA with the given modulus size.
        case rsa(bits: Int)
    }

    init(taking pkey: OpaquePointer) {
        self.pkey = pkey
    }

    deinit {
        EVP_PKEY_free(pkey)
    }

    /// Generates a new key.
    public static func generate(_ kind: Kind) throws(CryptoError) -> PrivateKey {
        let algorithm: String
        switch kind {
        case .ecdsa: algorithm = "EC"
        case .rsa: algorithm = "RSA"
        }
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, algorithm, nil) else {
            throw CryptoError("EVP_PKEY_CTX_new_from_name(\(algorithm))")
        }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1 else { throw CryptoError("EVP_PKEY_keygen_init") }
        switch kind {
        case .ecdsa(let curve):
            guard EVP_PKEY_CTX_set_group_name(ctx, curve) == 1 else { throw CryptoError("set EC group \(curve)") }
        case .rsa(let bits):
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, Int32(bits)) == 1 else { throw CryptoError("set RSA bits") }
        }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(ctx, &key) == 1, let key else { throw CryptoError("EVP_PKEY_generate") }
        return PrivateKey(taking: key)
    }

    /// Reads a PEM private key (SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    public convenience init(pem: [UInt8]) throws(CryptoError) {
        // The memory BIO borrows the buffer, so it must be read while the buffer is pinned.
        let key: OpaquePointer? = pem.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw CryptoError("read PEM private key") }
        self.init(taking: key)
    }

    /// The key in its traditional PEM form: `EC PRIVATE KEY` (SEC1) for ECDSA, `RSA PRIVATE KEY` (PKCS#1) for RSA.
    public func traditionalPEM() throws(CryptoError) -> [UInt8] {
        try Self.withMemoryBIO { bio throws(CryptoError) in
            guard PEM_write_bio_PrivateKey_traditional(bio, pkey, nil, nil, 0, nil, nil) == 1 else {
                throw CryptoError("PEM_write_bio_PrivateKey_traditional")
            }
        }
    }

    /// The public key as DER SubjectPublicKeyInfo (PKIX).
    public func publicKeyPKIX() throws(CryptoError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let n = i2d_PUBKEY(pkey, &out)
        guard n > 0, let out else { throw CryptoError("i2d_PUBKEY") }
        defer { COpenSSLShims_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }

    /// The public key in its type-specific DER form (PKCS#1 `RSAPublicKey` for RSA).
    public func publicKeyTypeSpecific() throws(CryptoError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let n = i2d_PublicKey(pkey, &out)
        guard n > 0, let out else { throw CryptoError("i2d_PublicKey") }
        defer { COpenSSLShims_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }

    /// Key size in bits.
    public var bits: Int { Int(EVP_PKEY_get_bits(pkey)) }

    static func withMemoryBIO(_ body: (OpaquePointer) throws(CryptoError) -> Void) throws(CryptoError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError("BIO_new") }
        defer { BIO_free(bio) }
        try body(bio)
        var data: UnsafeMutablePointer<CChar>?
        let n = COpenSSLShims_BIO_get_mem_data(bio, &data)
        guard n >= 0, let data else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: n))
    }
}

@available(*, unavailable)
extension PrivateKey: Sendable {}

extension PrivateKey {
    /// Signs `message` with ECDSA over the given hash; returns big-endian r and s padded to `size` bytes.
    public func signECDSA(message: [UInt8], hash: HashAlgorithm, size: Int) throws(CryptoError) -> (
        r: [UInt8], s: [UInt8]
    ) {
        guard let ctx = EVP_MD_CTX_new() else { throw CryptoError("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        let md = hash.evpMD
        guard EVP_DigestSignInit(ctx, nil, md, nil, pkey) == 1 else { throw CryptoError("EVP_DigestSignInit") }
        var length = 0
        guard EVP_DigestSign(ctx, nil, &length, message, message.count) == 1 else {
            throw CryptoError("EVP_DigestSign")
        }
        var der = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(ctx, &der, &length, message, message.count) == 1 else {
            throw CryptoError("EVP_DigestSign")
        }
        let sig: OpaquePointer? = der.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> OpaquePointer? in
            var p: UnsafePointer<UInt8>? = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            return d2i_ECDSA_SIG(nil, &p, length)
        }
        guard let sig else { throw CryptoError("d2i_ECDSA_SIG") }
        defer { ECDSA_SIG_free(sig) }
        var r = [UInt8](repeating: 0, count: size)
        var s = [UInt8](repeating: 0, count: size)
        guard BN_bn2binpad(ECDSA_SIG_get0_r(sig), &r, Int32(size)) == Int32(size),
            BN_bn2binpad(ECDSA_SIG_get0_s(sig), &s, Int32(size)) == Int32(size)
        else { throw CryptoError("ECDSA signature too large") }
        return (r, s)
    }
}
