import Foundation

/// An HTTP/1.1 request as the server received it.
public struct HTTPRequest: Sendable {
    /// Method (`GET`, `POST`, …).
    public var method: String
    /// Path without the query string.
    public var path: String
    /// The raw query string (after `?`), empty when absent.
    public var query: String
    /// Header fields in arrival order (names as sent).
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    /// Creates a request.
    public init(
        method: String,
        path: String,
        query: String = "",
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first value of a header (case-insensitive name).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// An HTTP response.
public struct HTTPResponse: Sendable {
    /// Status code.
    public var status: Int
    /// Header fields (Content-Length and Connection are added when written).
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A plain-text response (newline appended).
    public static func text(_ status: Int, _ message: String) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: [("Content-Type", "text/plain; charset=utf-8")],
            body: Array((message + "\n").utf8)
        )
    }

    /// A JSON response from already-encoded bytes.
    public static func json(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
    }

    /// The first value of a header (case-insensitive name).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// Standard reason phrases.
    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        default: "Status \(status)"
        }
    }
}

/// Reads HTTP/1.1 messages from a byte stream, keeping bytes that arrive past one message for the next.
public final class HTTPMessageReader {
    private let stream: any ByteStream
    fileprivate(set) var buffer: [UInt8] = []
    /// Largest accepted header block.
    public var maxHeaderBytes = 64 * 1024
    /// Largest accepted body.
    public var maxBodyBytes = 16 * 1024 * 1024

    /// Reads from `stream`.
    public init(_ stream: any ByteStream) {
        self.stream = stream
    }

    private func fill() throws(HTTPError) -> Bool {
        let chunk = try stream.read(max: 65536)
        if chunk.isEmpty { return false }
        buffer += chunk
        return true
    }

    /// Reads the start line and header block; nil when the stream ends cleanly before any byte.
    private func readHead() throws(HTTPError) -> (start: String, headers: [(name: String, value: String)])? {
        var searchFrom = 0
        while true {
            if let end = Self.find(buffer, [13, 10, 13, 10], from: searchFrom) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
                let start = lines.removeFirst()
                var headers: [(name: String, value: String)] = []
                for line in lines {
                    guard let colon = line.firstIndex(of: ":"), colon != line.startIndex, !line.first!.isWhitespace
                    else {
                        throw HTTPError("malformed header line", status: 400)
                    }
                    let name = String(line[..<colon])
                    guard !name.contains(where: { $0 == " " || $0 == "\t" }) else {
                        throw HTTPError("malformed header name", status: 400)
                    }
                    headers.append((name, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
                }
                return (start, headers)
            }
            if buffer.count > maxHeaderBytes {
                throw HTTPError("header block larger than \(maxHeaderBytes) bytes", status: 431)
            }
            searchFrom = max(0, buffer.count - 3)
            if try !fill() {
                if buffer.isEmpty { return nil }
                throw HTTPError("connection closed inside the header block", status: 400, transient: true)
            }
        }
    }

    private func readExactly(_ count: Int) throws(HTTPError) -> [UInt8] {
        while buffer.count < count {
            if try !fill() { throw HTTPError("connection closed inside the body", status: 400, transient: true) }
        }
        let out = Array(buffer.prefix(count))
        buffer.removeFirst(count)
        return out
    }

    private func readLine() throws(HTTPError) -> String {
        while true {
            if let end = Self.find(buffer, [13, 10], from: 0) {
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                return line
            }
            if buffer.count > maxHeaderBytes { throw HTTPError("chunk line too long", status: 400) }
            if try !fill() { throw HTTPError("connection closed inside a chunked body", status: 400, transient: true) }
        }
    }

    private func readBody(headers: [(name: String, value: String)], untilClose: Bool) throws(HTTPError) -> [UInt8] {
        let lower = headers.map { ($0.name.lowercased(), $0.value) }
        if let te = lower.first(where: { $0.0 == "transfer-encoding" })?.1 {
            guard te.lowercased() == "chunked" else {
                throw HTTPError("unsupported Transfer-Encoding \(te)", status: 501)
            }
            var body: [UInt8] = []
            while true {
                let line = try readLine()
                let sizeText = line.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard let size = Int(sizeText, radix: 16), size >= 0 else {
                    throw HTTPError("malformed chunk size", status: 400)
                }
                if size == 0 {
                    while try !readLine().isEmpty {}  // trailers
                    return body
                }
                guard body.count + size <= maxBodyBytes else {
                    throw HTTPError("body larger than \(maxBodyBytes) bytes", status: 413)
                }
                body += try readExactly(size)
                guard try readExactly(2) == [13, 10] else { throw HTTPError("malformed chunk", status: 400) }
            }
        }
        let lengths = Set(lower.filter { $0.0 == "content-length" }.map(\.1))
        if lengths.count > 1 { throw HTTPError("conflicting Content-Length headers", status: 400) }
        if let text = lengths.first {
            guard let length = Int(text), length >= 0 else { throw HTTPError("malformed Content-Length", status: 400) }
            guard length <= maxBodyBytes else {
                throw HTTPError("body of \(length) bytes exceeds the limit of \(maxBodyBytes)", status: 413)
            }
            return try readExactly(length)
        }
        guard untilClose else { return [] }
        while try fill() {
            if buffer.count > maxBodyBytes { throw HTTPError("body larger than \(maxBodyBytes) bytes", status: 413) }
        }
        defer { buffer = [] }
        return buffer
    }

    /// Reads one request; nil when the client closed the connection between requests.
    public func readRequest() throws(HTTPError) -> HTTPRequest? {
        guard let (start, headers) = try readHead() else { return nil }
        let parts = start.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1."), !parts[0].isEmpty,
            parts[1].hasPrefix("/") || parts[1] == "*"
        else {
            throw HTTPError("malformed request line", status: 400)
        }
        let target = parts[1]
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let body = try readBody(headers: headers, untilClose: false)
        var request = HTTPRequest(
            method: String(parts[0]),
            path: String(path[0]),
            query: path.count > 1 ? String(path[1]) : "",
            headers: headers,
            body: body
        )
        if parts[2] == "HTTP/1.0" && request.header("connection")?.lowercased() != "keep-alive" {
            request.headers.append(("Connection", "close"))
        }
        return request
    }

    /// Reads one response to a request with the given method.
    public func readResponse(method: String) throws(HTTPError) -> HTTPResponse {
        guard let (start, headers) = try readHead() else {
            throw HTTPError("connection closed before a response", transient: true)
        }
        let parts = start.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw HTTPError("malformed status line: \(start.prefix(80))")
        }
        let noBody = method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status)
        let body = noBody ? [] : try readBody(headers: headers, untilClose: true)
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    /// Parses one complete request from the front of `buffer`: the request and the bytes it used, nil when more
    /// bytes are needed. Waits for the whole declared body before parsing, so large bodies are parsed once.
    public static func parseRequest(_ buffer: [UInt8], maxHeaderBytes: Int, maxBodyBytes: Int) throws(HTTPError) -> (
        HTTPRequest, Int
    )? {
        guard let headEnd = find(buffer, [13, 10, 13, 10], from: 0) else {
            if buffer.count > maxHeaderBytes {
                throw HTTPError("header block larger than \(maxHeaderBytes) bytes", status: 431)
            }
            return nil
        }
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self).lowercased()
        var chunked = false
        for line in head.split(separator: "\r\n").dropFirst() {
            if line.hasPrefix("content-length:"), let n = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)),
                n <= maxBodyBytes,
                buffer.count < headEnd + 4 + n
            {
                return nil
            }
            if line.hasPrefix("transfer-encoding:") { chunked = true }
        }
        let source = BufferStream(buffer)
        let reader = HTTPMessageReader(source)
        reader.maxHeaderBytes = maxHeaderBytes
        reader.maxBodyBytes = maxBodyBytes
        do throws(HTTPError) {
            guard let request = try reader.readRequest() else { return nil }
            return (request, buffer.count - reader.buffer.count)
        } catch {
            if chunked && error.message == BufferStream.incomplete { return nil }
            throw error
        }
    }

    static func find(_ haystack: [UInt8], _ needle: [UInt8], from: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            var j = 0
            while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
            if j == needle.count { return i }
            i += 1
        }
        return nil
    }
}

extension HTTPResponse {
    /// The response as bytes on the wire.
    public func serialized(keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers where !["content-length", "connection"].contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
        return Array(head.utf8) + body
    }
}

extension HTTPRequest {
    /// The request as bytes on the wire.
    public func serialized(host: String) -> [UInt8] {
        var head = "\(method) \(path)\(query.isEmpty ? "" : "?" + query) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in headers where !["content-length", "host"].contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }
}

/// A byte stream over bytes already received: reading past them reports an incomplete message.
final class BufferStream: ByteStream {
    static let incomplete = "incomplete message"
    private var bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    func read(max: Int) throws(HTTPError) -> [UInt8] {
        guard !bytes.isEmpty else { throw HTTPError(Self.incomplete) }
        defer { bytes = [] }
        return bytes
    }

    func write(_ bytes: [UInt8]) throws(HTTPError) {}
}
