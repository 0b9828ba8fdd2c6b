import Crypto

/// A small HTTP/1.1 client: one request per connection, plain TCP or TLS (OpenSSL, via `TLSClientConnection`).
public struct HTTPClient: Sendable {
    /// Where requests go.
    public var endpoint: Endpoint
    /// Use TLS, verifying the server against this CA bundle file (nil = plain HTTP).
    public var tlsCAFile: String?
    /// Speak TLS.
    public var useTLS = false
    /// Connect/read/write timeout.
    public var timeoutSeconds = 30
    /// Largest accepted response body.
    public var maxBodyBytes = 64 * 1024 * 1024

    /// A client for `endpoint`.
    public init(endpoint: Endpoint, useTLS: Bool = false, tlsCAFile: String? = nil) {
        self.endpoint = endpoint
        self.useTLS = useTLS
        self.tlsCAFile = tlsCAFile
    }

    /// Sends one request and reads the whole response.
    public func send(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let stream: any ByteStream
        if useTLS {
            do throws(TLSError) {
                stream = TLSStream(
                    try TLSClientConnection(
                        host: endpoint.host,
                        port: endpoint.port,
                        caFile: tlsCAFile,
                        timeoutSeconds: timeoutSeconds
                    )
                )
            } catch {
                throw HTTPError(error.message, transient: error.transient)
            }
        } else {
            stream = try TCPStream.connect(endpoint, timeoutSeconds: timeoutSeconds)
        }
        var request = request
        if request.header("connection") == nil { request.headers.append(("Connection", "close")) }
        try stream.write(request.serialized(host: endpoint.description))
        let reader = HTTPMessageReader(stream)
        reader.maxBodyBytes = maxBodyBytes
        return try reader.readResponse(method: request.method)
    }

    /// `POST path` with a JSON body.
    public func postJSON(_ path: String, _ body: [UInt8]) throws(HTTPError) -> HTTPResponse {
        try send(HTTPRequest(method: "POST", path: path, headers: [("Content-Type", "application/json")], body: body))
    }

    /// `GET path`.
    public func get(_ path: String) throws(HTTPError) -> HTTPResponse {
        try send(HTTPRequest(method: "GET", path: path))
    }
}

/// Adapts the OpenSSL TLS client connection to `ByteStream`.
final class TLSStream: ByteStream {
    let connection: TLSClientConnection

    init(_ connection: TLSClientConnection) {
        self.connection = connection
    }

    func read(max: Int) throws(HTTPError) -> [UInt8] {
        do throws(TLSError) { return try connection.read(max: max) } catch {
            throw HTTPError(error.message, transient: error.transient)
        }
    }

    func write(_ bytes: [UInt8]) throws(HTTPError) {
        do throws(TLSError) { try connection.write(bytes) } catch {
            throw HTTPError(error.message, transient: error.transient)
        }
    }
}
