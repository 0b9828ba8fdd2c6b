internal import COpenSSL

extension PrivateKey {
    /// RSA-OAEP with SHA-256 (and MGF1-SHA-256) and a label, as Contrast encrypts seed shares (label "seedshare").
    public func decryptOAEP(_ ciphertext: [UInt8], label: [UInt8]) throws(CryptoError) -> [UInt8] {
        try OAEP.run(pkey, ciphertext, label: label, encrypt: false)
    }

    /// Encrypts with the public half of this key (RSA-OAEP-SHA256 with a label).
    public func encryptOAEP(_ plaintext: [UInt8], label: [UInt8]) throws(CryptoError) -> [UInt8] {
        try OAEP.run(pkey, plaintext, label: label, encrypt: true)
    }
}

extension PublicKey {
    /// RSA-OAEP-SHA256 encryption with a label.
    public func encryptOAEP(_ plaintext: [UInt8], label: [UInt8]) throws(CryptoError) -> [UInt8] {
        try OAEP.run(pkey, plaintext, label: label, encrypt: true)
    }
}

enum OAEP {
    static func run(_ pkey: OpaquePointer, _ input: [UInt8], label: [UInt8], encrypt: Bool) throws(CryptoError) -> [UInt8] {
        guard let ctx = EVP_PKEY_CTX_new(pkey, nil) else { throw CryptoError("EVP_PKEY_CTX_new") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1,
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1,
            EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1,
            EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1
        else { throw CryptoError("RSA-OAEP setup") }
        if !label.isEmpty {
            // set0 takes ownership of an OPENSSL_malloc'd copy.
            guard let copy = CRYPTO_malloc(label.count, #file, #line) else { throw CryptoError("CRYPTO_malloc") }
            label.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: label.count) }
            guard EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, copy, Int32(label.count)) == 1 else {
                CRYPTO_free(copy, #file, #line)
                throw CryptoError("RSA-OAEP label")
            }
        }
        var length = 0
        let sized = encrypt
            ? EVP_PKEY_encrypt(ctx, nil, &length, input, input.count) : EVP_PKEY_decrypt(ctx, nil, &length, input, input.count)
        guard sized == 1 else { throw CryptoError(encrypt ? "RSA-OAEP encrypt" : "RSA-OAEP decrypt") }
        var out = [UInt8](repeating: 0, count: length)
        let rc = encrypt
            ? EVP_PKEY_encrypt(ctx, &out, &length, input, input.count) : EVP_PKEY_decrypt(ctx, &out, &length, input, input.count)
        guard rc == 1 else { throw CryptoError(encrypt ? "RSA-OAEP encrypt" : "RSA-OAEP decrypt") }
        return Array(out.prefix(length))
    }
}

/// HKDF-SHA256 (RFC 5869) through OpenSSL's KDF API.
public enum HKDF {
    /// Derives `length` bytes from `key` with `salt` and `info`.
    public static func sha256(key: [UInt8], salt: [UInt8], info: [UInt8], length: Int) throws(CryptoError) -> [UInt8] {
        guard let kdf = EVP_KDF_fetch(nil, "HKDF", nil) else { throw CryptoError("EVP_KDF_fetch(HKDF)") }
        defer { EVP_KDF_free(kdf) }
        guard let ctx = EVP_KDF_CTX_new(kdf) else { throw CryptoError("EVP_KDF_CTX_new") }
        defer { EVP_KDF_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: length)
        var k = key
        var s = salt
        var i = info
        // OSSL_PARAM keeps pointers to its key names and values, so they must outlive the derive call.
        let names: [UnsafeMutablePointer<CChar>] = ["digest", "key", "salt", "info", "SHA256"].compactMap { (name: String) in
            name.withCString { strdup($0) }
        }
        defer { for n in names { free(n) } }
        guard names.count == 5 else { throw CryptoError("out of memory") }
        let rc: Int32 = k.withUnsafeMutableBytes { kb in
            s.withUnsafeMutableBytes { sb in
                i.withUnsafeMutableBytes { ib in
                    var params = [
                        OSSL_PARAM_construct_utf8_string(names[0], names[4], 0),
                        OSSL_PARAM_construct_octet_string(names[1], kb.baseAddress, kb.count),
                        OSSL_PARAM_construct_octet_string(names[2], sb.baseAddress, sb.count),
                        OSSL_PARAM_construct_octet_string(names[3], ib.baseAddress, ib.count),
                        OSSL_PARAM_construct_end(),
                    ]
                    return EVP_KDF_derive(ctx, &out, length, &params)
                }
            }
        }
        guard rc == 1 else { throw CryptoError("HKDF derive") }
        return out
    }
}
