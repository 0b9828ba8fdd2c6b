internal import COpenSSL

/// A public key held by OpenSSL (`EVP_PKEY`).
public final class PublicKey {
    let pkey: OpaquePointer

    init(taking pkey: OpaquePointer) {
        self.pkey = pkey
    }

    deinit {
        EVP_PKEY_free(pkey)
    }

    /// Parses a DER SubjectPublicKeyInfo.
    public convenience init(spki der: [UInt8]) throws(CryptoError) {
        let key: OpaquePointer? = der.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> OpaquePointer? in
            var p: UnsafePointer<UInt8>? = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
            guard p != nil else { return nil }
            return d2i_PUBKEY(nil, &p, buffer.count)
        }
        guard let key else { throw CryptoError("parse SubjectPublicKeyInfo") }
        self.init(taking: key)
    }

    /// A P-256 key from its raw 64-byte X‖Y coordinates (as TDX quotes carry the attestation key), wrapped in
    /// the fixed SubjectPublicKeyInfo prefix for an uncompressed prime256v1 point.
    public convenience init(p256RawXY xy: [UInt8]) throws(CryptoError) {
        guard xy.count == 64 else { throw CryptoError("P-256 raw key must be 64 bytes") }
        let prefix: [UInt8] = [
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
        ]
        try self.init(spki: prefix + xy)
    }

    /// Verifies an ECDSA signature given as big-endian r and s.
    public func verifyECDSA(message: [UInt8], r: [UInt8], s: [UInt8], hash: HashAlgorithm) -> Bool {
        ECDSAVerifier.verify(key: pkey, message: message, r: r, s: s, hash: hash)
    }
}

@available(*, unavailable)
extension PublicKey: Sendable {}
