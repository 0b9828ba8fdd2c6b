internal import COpenSSL
internal import COpenSSLShims

/// Cryptographically secure random bytes from OpenSSL's DRBG.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) throws(CryptoError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count == 0 || RAND_bytes(&out, Int32(count)) == 1 else { throw CryptoError("RAND_bytes") }
        return out
    }
}

extension PrivateKey {
    /// An EC key derived deterministically from key material (at least the curve's order size plus 8 bytes,
    /// e.g. HKDF output): the material is read as a big-endian integer and reduced to a valid scalar.
    public static func derivedECDSA(curve: String, material: [UInt8]) throws(CryptoError) -> PrivateKey {
        guard let key = COpenSSLShims_ec_key_from_material(curve, material, material.count) else {
            throw CryptoError("derive \(curve) key")
        }
        return PrivateKey(taking: key)
    }

    /// An ECDSA (or RSA PKCS#1 v1.5) signature over `message` with the given hash, in ASN.1 DER form — what Go's
    /// `ecdsa.SignASN1` and `openssl dgst -sign` produce.
    public func signDER(message: [UInt8], hash: HashAlgorithm) throws(CryptoError) -> [UInt8] {
        guard let ctx = EVP_MD_CTX_new() else { throw CryptoError("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, hash.evpMD, nil, pkey) == 1 else { throw CryptoError("EVP_DigestSignInit") }
        var length = 0
        guard EVP_DigestSign(ctx, nil, &length, message, message.count) == 1 else {
            throw CryptoError("EVP_DigestSign")
        }
        var der = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(ctx, &der, &length, message, message.count) == 1 else {
            throw CryptoError("EVP_DigestSign")
        }
        return Array(der.prefix(length))
    }

    /// The key as PKCS#8 PEM (`PRIVATE KEY`), the form Contrast's initializer writes to key.pem.
    public func pkcs8PEM() throws(CryptoError) -> [UInt8] {
        try Self.withMemoryBIO { bio throws(CryptoError) in
            guard PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil) == 1 else {
                throw CryptoError("PEM_write_bio_PrivateKey")
            }
        }
    }

    /// The public half.
    public func publicKey() throws(CryptoError) -> PublicKey {
        try PublicKey(spki: try publicKeyPKIX())
    }
}

extension PublicKey {
    /// Reads a PEM public key (`PUBLIC KEY`, SubjectPublicKeyInfo).
    public convenience init(pem: [UInt8]) throws(CryptoError) {
        let key: OpaquePointer? = pem.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        guard let key else { throw CryptoError("read PEM public key") }
        self.init(taking: key)
    }

    /// The key as DER SubjectPublicKeyInfo (Go's `x509.MarshalPKIXPublicKey`).
    public func pkix() throws(CryptoError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let n = i2d_PUBKEY(pkey, &out)
        guard n > 0, let out else { throw CryptoError("i2d_PUBKEY") }
        defer { COpenSSLShims_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }

    /// Verifies an ASN.1 DER signature (ECDSA, or RSA PKCS#1 v1.5) over `message`.
    public func verifyDER(message: [UInt8], signature: [UInt8], hash: HashAlgorithm) -> Bool {
        defer { ERR_clear_error() }
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, hash.evpMD, nil, pkey) == 1 else { return false }
        return EVP_DigestVerify(ctx, signature, signature.count, message, message.count) == 1
    }
}

extension Certificate {
    /// The certificate's subject public key.
    public func publicKey() throws(CryptoError) -> PublicKey {
        guard let key = X509_get_pubkey(x509) else { throw CryptoError("X509_get_pubkey") }
        return PublicKey(taking: key)
    }
}

extension PublicKey {
    /// An RSA public key from its PKCS#1 `RSAPublicKey` DER (how manifests list seed-share owner keys).
    public convenience init(rsaPKCS1 der: [UInt8]) throws(CryptoError) {
        let key: OpaquePointer? = der.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> OpaquePointer? in
            var p: UnsafePointer<UInt8>? = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            guard p != nil else { return nil }
            return d2i_PublicKey(EVP_PKEY_RSA, nil, &p, buffer.count)
        }
        guard let key else { throw CryptoError("parse PKCS#1 RSA public key") }
        self.init(taking: key)
    }

    /// The key in its type-specific DER form (PKCS#1 `RSAPublicKey` for RSA).
    public func typeSpecificDER() throws(CryptoError) -> [UInt8] {
        var out: UnsafeMutablePointer<UInt8>?
        let n = i2d_PublicKey(pkey, &out)
        guard n > 0, let out else { throw CryptoError("i2d_PublicKey") }
        defer { COpenSSLShims_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(n)))
    }
}
