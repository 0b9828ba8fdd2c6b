internal import COpenSSL
internal import COpenSSLShims
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Network and TLS failures, with the drained OpenSSL error queue where there is one.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    /// What failed, in one line.
    public var message: String
    /// True when retrying may help (connection refused or reset, timeout), false for certificate and
    /// protocol errors.
    public var transient: Bool

    /// Creates an error.
    public init(_ message: String, transient: Bool) {
        self.message = message
        self.transient = transient
    }

    public var description: String { message }
}

/// A TLS 1.2+ client connection over TCP, verifying the server certificate chain against the system trust
/// store (or a given CA file) and the host name. One owner of the `SSL_CTX`, `SSL` and socket.
public final class TLSClientConnection {
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let fd: Int32

    /// Connects to `host:port` and completes the handshake. `caFile` replaces the system trust store.
    public init(host: String, port: Int, caFile: String? = nil, timeoutSeconds: Int = 30) throws(TLSError) {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError("SSL_CTX_new failed: \(CryptoError.drain().joined(separator: "; "))", transient: false)
        }
        _ = COpenSSLShims_SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        // HTTP/1.0 servers end the body by closing the socket; downloads are checked against a pinned digest.
        SSL_CTX_set_options(ctx, COpenSSLShims_SSL_OP_IGNORE_UNEXPECTED_EOF())
        let loaded: Int32 =
            if let caFile { SSL_CTX_load_verify_locations(ctx, caFile, nil) } else { SSL_CTX_set_default_verify_paths(ctx) }
        guard loaded == 1 else {
            SSL_CTX_free(ctx)
            throw TLSError(
                "cannot load trust anchors\(caFile.map { " from \($0)" } ?? ""): \(CryptoError.drain().joined(separator: "; "))",
                transient: false)
        }
        let socket: Int32
        do {
            socket = try Self.connect(host: host, port: port, timeoutSeconds: timeoutSeconds)
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        guard let ssl = SSL_new(ctx) else {
            close(socket)
            SSL_CTX_free(ctx)
            throw TLSError("SSL_new failed", transient: false)
        }
        self.context = ctx
        self.ssl = ssl
        self.fd = socket
        SSL_set_fd(ssl, socket)
        _ = COpenSSLShims_SSL_set_tlsext_host_name(ssl, host)
        SSL_set1_host(ssl, host)
        let rc = SSL_connect(ssl)
        if rc != 1 {
            let verify = SSL_get_verify_result(ssl)
            let detail: String
            if verify != X509_V_OK {
                detail = "certificate verification failed: " + String(cString: X509_verify_cert_error_string(verify))
            } else {
                let errors = CryptoError.drain()
                detail = errors.isEmpty ? "handshake failed (\(SSL_get_error(ssl, rc)))" : errors.joined(separator: "; ")
            }
            throw TLSError("TLS handshake with \(host):\(port) failed: \(detail)", transient: verify == X509_V_OK)
        }
    }

    deinit {
        SSL_shutdown(ssl)
        SSL_free(ssl)
        SSL_CTX_free(context)
        close(fd)
    }

    private static func connect(host: String, port: Int, timeoutSeconds: Int) throws(TLSError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw TLSError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))", transient: true)
        }
        defer { freeaddrinfo(result) }
        var lastErrno: Int32 = 0
        var info: UnsafeMutablePointer<addrinfo>? = first
        while let ai = info {
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            if fd >= 0 {
                var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return fd }
                lastErrno = errno
                close(fd)
            }
            info = ai.pointee.ai_next
        }
        throw TLSError("cannot connect to \(host):\(port): \(String(cString: strerror(lastErrno)))", transient: true)
    }

    /// Writes all bytes.
    public func write(_ bytes: [UInt8]) throws(TLSError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + offset, Int32($0.count - offset)) }
            guard n > 0 else { throw TLSError("TLS write failed: \(CryptoError.drain().joined(separator: "; "))", transient: true) }
            offset += Int(n)
        }
    }

    /// Reads up to `max` bytes; an empty result means the peer closed the connection.
    public func read(max: Int = 65536) throws(TLSError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        let n = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
        if n > 0 { return Array(buffer.prefix(Int(n))) }
        let error = SSL_get_error(ssl, n)
        if error == SSL_ERROR_ZERO_RETURN { return [] }
        if error == SSL_ERROR_SYSCALL && n == 0 { return [] }  // EOF without close_notify (HTTP/1.0 servers)
        if error == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK) {
            throw TLSError("TLS read timed out", transient: true)
        }
        throw TLSError("TLS read failed (\(error)): \(CryptoError.drain().joined(separator: "; "))", transient: true)
    }
}

@available(*, unavailable)
extension TLSClientConnection: Sendable {}
