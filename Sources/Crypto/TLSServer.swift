internal import COpenSSL
internal import COpenSSLShims
import Synchronization

/// The server side of TLS: one `SSL_CTX` loaded with a certificate chain and key, handing out a session per
/// accepted (non-blocking) socket. Creating sessions is serialized on the context; each session is then used by
/// one connection task only.
public final class TLSServerContext: Sendable {
    private final class Context {
        let ctx: OpaquePointer
        init(_ ctx: OpaquePointer) { self.ctx = ctx }
        deinit { SSL_CTX_free(ctx) }
    }

    private let context: Mutex<Context>

    /// Loads a PEM certificate chain (leaf first) and its private key; TLS 1.2 minimum.
    public init(certificateChainFile: String, keyFile: String) throws(TLSError) {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError("SSL_CTX_new failed: \(CryptoError.drain().joined(separator: "; "))", transient: false)
        }
        _ = COpenSSLShims_SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)
        guard SSL_CTX_use_certificate_chain_file(ctx, certificateChainFile) == 1,
            SSL_CTX_use_PrivateKey_file(ctx, keyFile, SSL_FILETYPE_PEM) == 1,
            SSL_CTX_check_private_key(ctx) == 1
        else {
            let reason = CryptoError.drain().joined(separator: "; ")
            SSL_CTX_free(ctx)
            throw TLSError(
                "cannot load the TLS certificate \(certificateChainFile) and key \(keyFile): \(reason)",
                transient: false
            )
        }
        context = Mutex(Context(ctx))
    }

    /// A session for an accepted socket (the caller keeps owning the descriptor).
    public func session(fd: Int32) throws(TLSError) -> TLSServerSession {
        let ssl: OpaquePointer? = context.withLock { SSL_new($0.ctx) }
        guard let ssl else { throw TLSError("SSL_new failed", transient: false) }
        SSL_set_fd(ssl, fd)
        SSL_set_accept_state(ssl)
        return TLSServerSession(ssl: ssl)
    }
}

/// One server-side TLS session over a non-blocking socket. Operations report when they must wait for the socket.
public final class TLSServerSession {
    private let ssl: OpaquePointer

    /// The outcome of a non-blocking TLS operation.
    public enum Outcome: Equatable, Sendable {
        /// Finished; for reads and writes, the byte count.
        case done(Int)
        /// Wait until the socket is readable, then call again.
        case wantRead
        /// Wait until the socket is writable, then call again.
        case wantWrite
        /// The peer closed the connection.
        case closed
        /// A TLS or socket error.
        case failed(String)
    }

    init(ssl: OpaquePointer) {
        self.ssl = ssl
    }

    deinit { SSL_free(ssl) }

    private func outcome(_ rc: Int32) -> Outcome {
        if rc > 0 { return .done(Int(rc)) }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let queued = CryptoError.drain()
            return queued.isEmpty ? .closed : .failed(queued.joined(separator: "; "))
        default: return .failed(CryptoError.drain().joined(separator: "; "))
        }
    }

    /// Advances the handshake.
    public func handshake() -> Outcome {
        outcome(SSL_do_handshake(ssl))
    }

    /// Reads decrypted bytes through `scratch` (the caller's reusable receive buffer), appending them to `buffer`.
    public func read(into buffer: inout [UInt8], scratch: inout [UInt8]) -> Outcome {
        let result = outcome(scratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) })
        if case .done(let n) = result { buffer += scratch[0..<n] }
        return result
    }

    /// Writes bytes from `offset` on; `.done(n)` reports how many were taken.
    public func write(_ bytes: [UInt8], from offset: Int) -> Outcome {
        outcome(bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + offset, Int32($0.count - offset)) })
    }

    /// Sends close_notify (best effort).
    public func shutdown() {
        _ = SSL_shutdown(ssl)
    }
}

@available(*, unavailable)
extension TLSServerSession: Sendable {}
