import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Errors of the socket layer and the HTTP codec.
public struct HTTPError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What failed.
    public var message: String
    /// The HTTP status a server answers with (400, 408, 411, 413, 431, …), or nil for transport errors.
    public var status: Int?
    /// True when retrying later may succeed (connection refused, reset, timeout).
    public var transient: Bool

    /// Creates an error.
    public init(_ message: String, status: Int? = nil, transient: Bool = false) {
        self.message = message
        self.status = status
        self.transient = transient
    }

    static func posix(_ what: String, transient: Bool = false) -> HTTPError {
        HTTPError("\(what): \(String(cString: strerror(errno)))", transient: transient)
    }

    public var description: String { message }
}

/// A byte stream a HTTP message is read from and written to (plain TCP or TLS).
public protocol ByteStream: AnyObject {
    /// Reads up to `max` bytes; an empty result means the peer closed the stream.
    func read(max: Int) throws(HTTPError) -> [UInt8]
    /// Writes all bytes.
    func write(_ bytes: [UInt8]) throws(HTTPError)
}

/// A host and port, parsed from `HOST:PORT` (`[v6]:PORT` for IPv6 literals).
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    /// Host name or address literal.
    public var host: String
    /// TCP port.
    public var port: Int

    /// Creates an endpoint.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; `defaultPort` is used when the port is missing.
    public init(parsing text: String, defaultPort: Int? = nil) throws(HTTPError) {
        var host = Substring(text)
        var port: Int? = defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw HTTPError("invalid address \(text)") }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") {
                port = Int(rest.dropFirst())
            } else if !rest.isEmpty {
                throw HTTPError("invalid address \(text)")
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else { throw HTTPError("invalid port in \(text)") }
            port = p
            host = host[..<colon]
        }
        guard let port, (1...65535).contains(port) || (port == 0 && defaultPort != nil), !host.isEmpty else {
            throw HTTPError("invalid address \(text): expected HOST:PORT")
        }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Resolves with getaddrinfo and calls `body` with each candidate address until it returns a value.
    func withAddresses<T>(passive: Bool, _ body: (UnsafeMutablePointer<addrinfo>) throws(HTTPError) -> T?)
        throws(HTTPError) -> T
    {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let list else {
            throw HTTPError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))", transient: true)
        }
        defer { freeaddrinfo(list) }
        var current: UnsafeMutablePointer<addrinfo>? = list
        var lastError = HTTPError("no address for \(self)")
        while let info = current {
            do throws(HTTPError) {
                if let result = try body(info) { return result }
            } catch {
                lastError = error
            }
            current = info.pointee.ai_next
        }
        throw lastError
    }
}

/// One TCP connection; the single owner of its file descriptor.
public final class TCPStream: ByteStream, Sendable {
    let fd: Int32
    private let closed = Atomic<Bool>(false)

    init(fd: Int32, timeoutSeconds: Int) {
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        #if canImport(Darwin)
            setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        setTimeout(seconds: timeoutSeconds)
    }

    deinit { close() }

    /// Connects to `endpoint` within `timeoutSeconds` (also the read/write timeout afterwards).
    public static func connect(_ endpoint: Endpoint, timeoutSeconds: Int = 30) throws(HTTPError) -> TCPStream {
        try endpoint.withAddresses(passive: false) { info throws(HTTPError) -> TCPStream? in
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { throw HTTPError.posix("socket") }
            let stream = TCPStream(fd: fd, timeoutSeconds: timeoutSeconds)
            guard Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                let transient = [ECONNREFUSED, ETIMEDOUT, ECONNRESET, EHOSTUNREACH, ENETUNREACH, EINPROGRESS].contains(
                    errno
                )
                throw HTTPError.posix("connect to \(endpoint)", transient: transient)
            }
            return stream
        }
    }

    /// Sets the receive and send timeouts (0 = none).
    public func setTimeout(seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    public func read(max: Int) throws(HTTPError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
            if n >= 0 { return Array(buffer.prefix(n)) }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                throw HTTPError("read timed out", status: 408, transient: true)
            }
            throw HTTPError.posix("read", transient: true)
        }
    }

    public func write(_ bytes: [UInt8]) throws(HTTPError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw HTTPError.posix("write", transient: true)
            }
            offset += n
        }
    }

    /// Closes the descriptor (once).
    public func close() {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) { _ = Glibc.close(fd) }
    }
}

/// A listening TCP socket.
public final class TCPListener: Sendable {
    let fd: Int32
    /// The bound endpoint (with the real port when 0 was asked for).
    public let endpoint: Endpoint
    private let closed = Atomic<Bool>(false)

    /// Binds and listens on `endpoint` (port 0 picks a free port).
    public init(_ endpoint: Endpoint, backlog: Int32 = 512) throws(HTTPError) {
        let fd = try endpoint.withAddresses(passive: true) { info throws(HTTPError) -> Int32? in
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { throw HTTPError.posix("socket") }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, backlog) == 0 else {
                let error = HTTPError.posix("listen on \(endpoint)")
                _ = Glibc.close(fd)
                throw error
            }
            return fd
        }
        self.fd = fd
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let port = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Int in
                guard getsockname(fd, sa, &length) == 0 else { return endpoint.port }
                if Int32(sa.pointee.sa_family) == AF_INET6 {
                    return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        Int(UInt16(bigEndian: $0.pointee.sin6_port))
                    }
                }
                return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin_port))
                }
            }
        }
        self.endpoint = Endpoint(host: endpoint.host, port: port)
    }

    deinit { close() }

    /// Stops accepting and releases the port.
    public func close() {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) {
            _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
            _ = Glibc.close(fd)
        }
    }
}
