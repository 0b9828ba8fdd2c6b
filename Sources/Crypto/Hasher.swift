internal import COpenSSL

/// Errors raised by the OpenSSL wrapper, carrying the drained OpenSSL error queue.
public struct CryptoError: Error, CustomStringConvertible, Sendable {
    /// What was being attempted.
    public let operation: String
    /// The OpenSSL error strings, oldest first.
    public let openSSLErrors: [String]

    init(_ operation: String) {
        self.operation = operation
        self.openSSLErrors = CryptoError.drain()
    }

    public var description: String {
        openSSLErrors.isEmpty ? "\(operation) failed" : "\(operation) failed: \(openSSLErrors.joined(separator: "; "))"
    }

    static func drain() -> [String] {
        var out: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buf = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buf, buf.count)
            out.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return out
    }
}

/// Hash algorithms offered by the wrapper.
public enum HashAlgorithm: Sendable {
    case sha256
    case sha384
    case sha512

    /// Digest length in bytes.
    public var outputSize: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }
}

extension HashAlgorithm {
    /// The OpenSSL message digest for this algorithm.
    var evpMD: OpaquePointer? {
        switch self {
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }
}

/// An incremental OpenSSL EVP message digest. One owner of the `EVP_MD_CTX`; not shareable across tasks.
public final class Hasher {
    private let context: OpaquePointer
    private let algorithm: HashAlgorithm
    private var finished = false

    /// Starts a new digest computation.
    public init(_ algorithm: HashAlgorithm = .sha256) throws(CryptoError) {
        guard let ctx = EVP_MD_CTX_new() else { throw CryptoError("EVP_MD_CTX_new") }
        let md = algorithm.evpMD
        guard EVP_DigestInit_ex(ctx, md, nil) == 1 else {
            EVP_MD_CTX_free(ctx)
            throw CryptoError("EVP_DigestInit_ex")
        }
        self.context = ctx
        self.algorithm = algorithm
    }

    deinit {
        EVP_MD_CTX_free(context)
    }

    /// Feeds raw bytes.
    public func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        // EVP_DigestUpdate only fails on a finalized or broken context, which this type rules out.
        _ = EVP_DigestUpdate(context, base, buffer.count)
    }

    /// Feeds a byte sequence.
    public func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            let array = Array(bytes)
            array.withUnsafeBytes { update($0) }
        }
    }

    /// Feeds the UTF-8 bytes of a string.
    public func update(_ string: String) {
        var s = string
        s.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Finishes the computation; the hasher cannot be used afterwards.
    public func finalize() -> Digest {
        precondition(!finished, "Hasher.finalize called twice")
        finished = true
        var out = [UInt8](repeating: 0, count: 64)
        var len: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &out, &len)
        return Digest(bytes: Array(out.prefix(Int(len))))
    }
}

@available(*, unavailable)
extension Hasher: Sendable {}

/// One-shot SHA-256.
public enum SHA256 {
    /// The SHA-256 digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> Digest {
        // Context allocation failing means the process is out of memory; there is nothing sane to return.
        guard let h = try? Hasher(.sha256) else { preconditionFailure("OpenSSL SHA-256 context unavailable") }
        h.update(bytes)
        return h.finalize()
    }

    /// The SHA-256 digest of a string's UTF-8 bytes.
    public static func hash(string: String) -> Digest {
        hash(Array(string.utf8))
    }
}

/// One-shot SHA-384.
public enum SHA384 {
    /// The SHA-384 digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> Digest {
        guard let h = try? Hasher(.sha384) else { preconditionFailure("OpenSSL SHA-384 context unavailable") }
        h.update(bytes)
        return h.finalize()
    }
}

/// One-shot SHA-512.
public enum SHA512 {
    /// The SHA-512 digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> Digest {
        guard let h = try? Hasher(.sha512) else { preconditionFailure("OpenSSL SHA-512 context unavailable") }
        h.update(bytes)
        return h.finalize()
    }
}
