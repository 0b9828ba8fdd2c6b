import Dispatch
import Foundation
import Synchronization

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

    /// Defaults: 30 s read timeout, 16 MiB bodies, 64 KiB headers.
    public init() {}
}

/// Wraps an accepted TCP connection before HTTP is spoken on it (e.g. a TLS handshake).
public typealias StreamUpgrade = @Sendable (TCPStream) throws -> any ByteStream

/// A HTTP/1.1 server over POSIX sockets: one listener, one task per connection in a task group, keep-alive,
/// read timeouts, body and header limits, and graceful shutdown. Blocking socket calls run on Dispatch threads so
/// the Swift concurrency pool never blocks; a failing connection (bad request, reset, handler error) only ever
/// closes itself.
public final class HTTPServer: Sendable {
    /// The handler type: a request in, a response out. Throwing yields 500.
    public typealias Handler = @Sendable (HTTPRequest) async throws -> HTTPResponse

    private let listener: TCPListener
    private let options: HTTPServerOptions
    private let upgrade: StreamUpgrade?
    private let connections = Mutex<[Int32: TCPStream]>([:])
    private let stopping = Atomic<Bool>(false)

    /// The bound endpoint (with the real port when port 0 was asked for).
    public var endpoint: Endpoint { listener.endpoint }

    /// Binds to `endpoint`. `upgrade` wraps each accepted connection (TLS); nil serves plain HTTP.
    public init(listen endpoint: Endpoint, options: HTTPServerOptions = HTTPServerOptions(), upgrade: StreamUpgrade? = nil) throws(HTTPError) {
        listener = try TCPListener(endpoint)
        self.options = options
        self.upgrade = upgrade
    }

    /// Serves until `shutdown()`; returns once every connection has finished or been closed.
    public func run(_ handler: @escaping Handler) async {
        await withTaskGroup(of: Void.self) { group in
            while !stopping.load(ordering: .acquiring) {
                let timeout = options.readTimeoutSeconds
                let listener = self.listener
                guard let stream = try? await Self.blocking({ () throws(HTTPError) in try listener.accept(timeoutSeconds: timeout) }) else {
                    break
                }
                register(stream)
                group.addTask { [self] in
                    await serve(stream, handler)
                    unregister(stream)
                    stream.close()
                }
            }
            // Stopping: give in-flight requests a grace period, then wake whatever is still blocked.
            let grace = options.shutdownGraceSeconds
            let deadline = ContinuousClock.now + .seconds(grace)
            while !connections.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            connections.withLock { for stream in $0.values { stream.shutdown() } }
            await group.waitForAll()
        }
    }

    /// Stops accepting connections and lets `run` drain and return. Idle keep-alive connections are closed at once.
    public func shutdown() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        listener.close()
        connections.withLock { for stream in $0.values where stream.idle.load(ordering: .acquiring) { stream.shutdown() } }
    }

    private func register(_ stream: TCPStream) {
        connections.withLock { $0[stream.fd] = stream }
    }

    private func unregister(_ stream: TCPStream) {
        _ = connections.withLock { $0.removeValue(forKey: stream.fd) }
    }

    private func serve(_ tcp: TCPStream, _ handler: Handler) async {
        let options = self.options
        let upgrade = self.upgrade
        // The reader and stream stay on one Dispatch thread at a time; the Box hands them between calls.
        guard let box = try? await Self.blocking({ () throws(HTTPError) -> ConnectionBox in
            do {
                let stream = try upgrade?(tcp) ?? tcp
                return ConnectionBox(stream: stream, options: options)
            } catch {
                throw HTTPError("handshake failed: \(error)")
            }
        }) else { return }
        while true {
            tcp.idle.store(true, ordering: .releasing)
            if stopping.load(ordering: .acquiring) { return }
            let next: Result<HTTPRequest?, HTTPError> = await Self.blockingResult { box.readRequest() }
            tcp.idle.store(false, ordering: .releasing)
            let request: HTTPRequest
            switch next {
            case .success(nil): return
            case .success(let r?): request = r
            case .failure(let error):
                if let status = error.status, status != 408 || !box.isEmpty {
                    _ = await Self.blockingResult { box.write(HTTPResponse.text(status, error.message), keepAlive: false) }
                }
                return
            }
            let response: HTTPResponse
            do {
                response = try await handler(request)
            } catch {
                response = .text(500, "internal error: \(error)")
            }
            let keepAlive = request.header("connection")?.lowercased() != "close" && !stopping.load(ordering: .acquiring)
            let written = await Self.blockingResult { box.write(response, keepAlive: keepAlive) }
            guard case .success = written, keepAlive else { return }
        }
    }

    /// Runs a blocking call on a Dispatch thread and resumes the task with its result.
    static func blockingResult<T: Sendable>(_ body: @escaping @Sendable () -> Result<T, HTTPError>) async -> Result<T, HTTPError> {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }

    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(HTTPError) -> T) async throws(HTTPError) -> T {
        try await blockingResult { () -> Result<T, HTTPError> in
            do throws(HTTPError) { return .success(try body()) } catch { return .failure(error) }
        }.get()
    }
}

/// The per-connection reader and stream behind a mutex: the connection task awaits each blocking call before the
/// next, so the lock is never contended; it only makes the hand-over between Dispatch threads sound.
final class ConnectionBox: Sendable {
    private struct State {
        let stream: any ByteStream
        let reader: HTTPMessageReader
    }

    private let state: Mutex<State>

    init(stream: sending any ByteStream, options: HTTPServerOptions) {
        let reader = HTTPMessageReader(stream)
        reader.maxBodyBytes = options.maxBodyBytes
        reader.maxHeaderBytes = options.maxHeaderBytes
        state = Mutex(State(stream: stream, reader: reader))
    }

    var isEmpty: Bool { state.withLock { $0.reader.isEmpty } }

    func readRequest() -> Result<HTTPRequest?, HTTPError> {
        state.withLock { state in
            do throws(HTTPError) { return .success(try state.reader.readRequest()) } catch { return .failure(error) }
        }
    }

    func write(_ response: HTTPResponse, keepAlive: Bool) -> Result<Void, HTTPError> {
        state.withLock { state in
            do throws(HTTPError) {
                try state.stream.write(response.serialized(keepAlive: keepAlive))
                return .success(())
            } catch { return .failure(error) }
        }
    }
}
