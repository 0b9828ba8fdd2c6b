public import Crypto
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Limits and timeouts of an `HTTPServer`.
public struct HTTPServerOptions: Sendable {
    /// Seconds a connection may stay silent (idle between requests, or stalled inside one) before it is closed.
    public var readTimeoutSeconds = 30
    /// Largest accepted request body; larger bodies get 413.
    public var maxBodyBytes = 16 * 1024 * 1024
    /// Largest accepted header block; larger get 431.
    public var maxHeaderBytes = 64 * 1024
    /// Seconds `run` waits for in-flight requests after `shutdown` before closing their connections.
    public var shutdownGraceSeconds = 5
    /// Serve HTTPS with this certificate and key (nil = plain HTTP).
    public var tls: TLSServerContext?

    /// Defaults: 30 s read timeout, 16 MiB bodies, 64 KiB headers.
    public init() {}
}

/// A HTTP/1.1 server over POSIX sockets: one listener, one child task per connection in a task group, keep-alive and
/// pipelining, read timeouts, body and header limits, graceful shutdown. Sockets are non-blocking; a single poll(2)
/// thread (`Reactor`) wakes the connection tasks, so neither the Swift concurrency pool nor Dispatch ever blocks on
/// a socket. A failing connection (malformed request, reset, throwing handler) only ever closes itself.
public final class HTTPServer: Sendable {
    /// The handler type: a request in, a response out. Throwing yields 500.
    public typealias Handler = @Sendable (HTTPRequest) async throws -> HTTPResponse

    private let listener: TCPListener
    private let options: HTTPServerOptions
    private let connections = Mutex<[Int32: Connection]>([:])
    private let stopping = Atomic<Bool>(false)

    /// The bound endpoint (with the real port when port 0 was asked for).
    public var endpoint: Endpoint { listener.endpoint }

    /// Binds to `endpoint`.
    public init(listen endpoint: Endpoint, options: HTTPServerOptions = HTTPServerOptions()) throws(HTTPError) {
        listener = try TCPListener(endpoint)
        _ = fcntl(listener.fd, F_SETFL, fcntl(listener.fd, F_GETFL) | O_NONBLOCK)
        self.options = options
    }

    /// Serves until `shutdown()`; returns once every connection has finished or been closed.
    public func run(_ handler: @escaping Handler) async {
        await withTaskExecutorPreference(ServerExecutor.shared) { await serveAll(handler) }
    }

    /// Starts `run` in a task on the server's own executor (independent of the host's concurrency pool) and
    /// returns at once; `done` is called when it has returned.
    public func start(_ handler: @escaping Handler, done: (@Sendable () -> Void)? = nil) {
        Task(executorPreference: ServerExecutor.shared) { [self] in
            await run(handler)
            done?()
        }
    }

    private func serveAll(_ handler: @escaping Handler) async {
        await withTaskGroup(of: Void.self) { group in
            while !stopping.load(ordering: .acquiring) {
                let fd = accept(listener.fd, nil, nil)
                if fd < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED {
                        if await Reactor.shared.wait(fd: listener.fd) == .cancelled { break }
                        continue
                    }
                    if errno == EMFILE || errno == ENFILE {
                        try? await Task.sleep(for: .milliseconds(10))
                        continue
                    }
                    break  // listener closed
                }
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                let connection = Connection(fd: fd)
                connections.withLock { $0[fd] = connection }
                group.addTask { [self] in
                    await serve(connection, handler)
                    connections.withLock { _ = $0.removeValue(forKey: fd) }
                    connection.close()
                }
            }
            // Stopping: give in-flight requests a grace period, then close whatever is still open.
            let deadline = ContinuousClock.now + .seconds(options.shutdownGraceSeconds)
            while !connections.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            connections.withLock { for c in $0.values { c.abort() } }
            await group.waitForAll()
        }
        listener.close()
    }

    /// Stops accepting connections; `run` drains in-flight requests and returns. Idle connections close at once.
    public func shutdown() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Reactor.shared.cancel(fd: listener.fd)
        connections.withLock { for c in $0.values where c.idle.load(ordering: .acquiring) { c.abort() } }
    }

    private func serve(_ c: Connection, _ handler: Handler) async {
        var session: TLSServerSession?
        if let context = options.tls {
            guard let s = try? context.session(fd: c.fd), await c.handshake(s, options) else { return }
            session = s
        }
        defer { session?.shutdown() }
        var buffer: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 65536)  // one receive buffer per connection, not per read
        while true {
            let parsed: (HTTPRequest, Int)?
            do throws(HTTPError) {
                parsed = try HTTPMessageReader.parseRequest(
                    buffer,
                    maxHeaderBytes: options.maxHeaderBytes,
                    maxBodyBytes: options.maxBodyBytes
                )
            } catch {
                if let status = error.status {
                    _ = await c.write(
                        HTTPResponse.text(status, error.message).serialized(keepAlive: false),
                        session,
                        options
                    )
                }
                return
            }
            if let (request, consumed) = parsed {
                buffer.removeFirst(consumed)
                let response: HTTPResponse
                do { response = try await handler(request) } catch { response = .text(500, "internal error: \(error)") }
                let keepAlive =
                    request.header("connection")?.lowercased() != "close" && !stopping.load(ordering: .acquiring)
                guard await c.write(response.serialized(keepAlive: keepAlive), session, options), keepAlive else {
                    return
                }
                // Back of the queue: a client that pipelines or answers instantly must not keep a server thread
                // to itself while other connections wait.
                await Task.yield()
                continue
            }
            // Need more bytes: wait for the socket (idle between requests counts as idle for shutdown).
            c.idle.store(buffer.isEmpty, ordering: .releasing)
            if buffer.isEmpty && stopping.load(ordering: .acquiring) { return }
            switch await c.read(into: &buffer, scratch: &scratch, session, options) {
            case .data: c.idle.store(false, ordering: .releasing)
            case .closed: return
            case .timedOut:
                if !buffer.isEmpty {
                    _ = await c.write(
                        HTTPResponse.text(408, "request timed out").serialized(keepAlive: false),
                        session,
                        options
                    )
                }
                return
            }
        }
    }
}

/// One accepted, non-blocking client socket.
final class Connection: Sendable {
    let fd: Int32
    let idle = Atomic<Bool>(true)
    private let closed = Atomic<Bool>(false)

    init(fd: Int32) {
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    enum ReadOutcome { case data, closed, timedOut }

    /// Waits for the socket as a TLS operation asks; false on timeout or shutdown.
    private func wait(for outcome: TLSServerSession.Outcome, until deadline: ContinuousClock.Instant) async -> Bool {
        await Reactor.shared.wait(fd: fd, write: outcome == .wantWrite, deadline: deadline) == .ready
    }

    /// Completes the TLS handshake within the read timeout.
    func handshake(_ session: TLSServerSession, _ options: HTTPServerOptions) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(options.readTimeoutSeconds)
        while !closed.load(ordering: .acquiring) {
            let outcome = session.handshake()
            switch outcome {
            case .done: return true
            case .wantRead, .wantWrite: guard await wait(for: outcome, until: deadline) else { return false }
            case .closed, .failed: return false
            }
        }
        return false
    }

    /// Appends whatever arrives within the read timeout (decrypted when `session` is given).
    func read(
        into buffer: inout [UInt8],
        scratch chunk: inout [UInt8],
        _ session: TLSServerSession?,
        _ options: HTTPServerOptions
    ) async -> ReadOutcome {
        let deadline = ContinuousClock.now + .seconds(options.readTimeoutSeconds)
        while true {
            if closed.load(ordering: .acquiring) { return .closed }
            var waitFor = TLSServerSession.Outcome.wantRead
            if let session {
                switch session.read(into: &buffer, scratch: &chunk) {
                case .done: return .data
                case .closed, .failed: return .closed
                case let other: waitFor = other
                }
            } else {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    buffer += chunk[0..<n]
                    return .data
                }
                if n == 0 { return .closed }
                guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return .closed }
            }
            switch await Reactor.shared.wait(fd: fd, write: waitFor == .wantWrite, deadline: deadline) {
            case .ready: continue
            case .timedOut: return .timedOut
            case .cancelled: return .closed
            }
        }
    }

    /// Writes everything (encrypted when `session` is given); false when the peer is gone or stalls past the timeout.
    func write(_ bytes: [UInt8], _ session: TLSServerSession?, _ options: HTTPServerOptions) async -> Bool {
        var offset = 0
        let deadline = ContinuousClock.now + .seconds(options.readTimeoutSeconds)
        while offset < bytes.count {
            if closed.load(ordering: .acquiring) { return false }
            var waitFor = TLSServerSession.Outcome.wantWrite
            if let session {
                switch session.write(bytes, from: offset) {
                case .done(let n):
                    offset += n
                    continue
                case .closed, .failed: return false
                case let other: waitFor = other
                }
            } else {
                let n = bytes.withUnsafeBytes {
                    send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    offset += n
                    continue
                }
                guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return false }
            }
            guard await wait(for: waitFor, until: deadline) else { return false }
        }
        return true
    }

    /// Wakes a waiting read/write and makes further I/O fail (shutdown path).
    func abort() {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
        Reactor.shared.cancel(fd: fd)
    }

    func close() {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) {
            Reactor.shared.cancel(fd: fd)
            _ = Glibc.close(fd)
        }
    }
}
