import Crypto
import Foundation

/// A minimal HTTPS GET over the OpenSSL client: HTTP/1.1 with `Connection: close`, Content-Length, chunked or
/// read-to-EOF bodies, and redirects.
enum HTTPFetch {
    struct Failure: Error, CustomStringConvertible {
        var message: String
        var transient: Bool
        var description: String { message }
    }

    /// Fetches `url` (https only), following up to `redirects` redirects.
    static func get(_ url: String, caFile: String?, redirects: Int = 5, limit: Int = 1 << 30) throws(Failure) -> [UInt8] {
        var current = url
        for _ in 0...redirects {
            guard let parts = URLComponents(string: current), parts.scheme == "https", let host = parts.host else {
                throw Failure(message: "unsupported URL \(current) (https:// only)", transient: false)
            }
            let port = parts.port ?? 443
            var path = parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath
            if let q = parts.percentEncodedQuery { path += "?" + q }
            let connection: TLSClientConnection
            do {
                connection = try TLSClientConnection(host: host, port: port, caFile: caFile)
                let request =
                    "GET \(path) HTTP/1.1\r\nHost: \(host)\(port == 443 ? "" : ":\(port)")\r\nUser-Agent: contrast-pipe\r\n"
                    + "Accept: */*\r\nConnection: close\r\n\r\n"
                try connection.write(Array(request.utf8))
            } catch {
                throw Failure(message: error.message, transient: error.transient)
            }
            var data: [UInt8] = []
            while true {
                let chunk: [UInt8]
                do { chunk = try connection.read() } catch { throw Failure(message: error.message, transient: true) }
                if chunk.isEmpty { break }
                data += chunk
                if data.count > limit + 65536 { throw Failure(message: "response larger than \(limit) bytes", transient: false) }
            }
            let response = try parse(data, url: current)
            switch response.status {
            case 200:
                return response.body
            case 301, 302, 303, 307, 308:
                guard let location = response.headers["location"],
                    let next = URL(string: location, relativeTo: URL(string: current))?.absoluteString
                else { throw Failure(message: "\(current): redirect without Location", transient: false) }
                current = next
            default:
                throw Failure(message: "\(current): HTTP \(response.status)", transient: response.status >= 500 || response.status == 429)
            }
        }
        throw Failure(message: "\(url): more than \(redirects) redirects", transient: false)
    }

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    static func parse(_ data: [UInt8], url: String) throws(Failure) -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = data.firstRange(of: separator) else {
            throw Failure(message: "\(url): truncated HTTP response", transient: true)
        }
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else {
            throw Failure(message: "\(url): malformed HTTP status line", transient: false)
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[end.upperBound...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            body = try dechunk(body, url: url)
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            guard body.count >= length else {
                throw Failure(message: "\(url): body shorter than Content-Length (\(body.count) < \(length))", transient: true)
            }
            body = Array(body.prefix(length))
        }
        return Response(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: [UInt8], url: String) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while true {
            guard let lineEnd = data[i...].firstRange(of: [13, 10]) else {
                throw Failure(message: "\(url): truncated chunked body", transient: true)
            }
            let sizeText = String(decoding: data[i..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw Failure(message: "\(url): malformed chunk size", transient: false)
            }
            i = lineEnd.upperBound
            if size == 0 { return out }
            guard i + size <= data.count else { throw Failure(message: "\(url): truncated chunk", transient: true) }
            out += data[i..<(i + size)]
            i += size + 2
        }
    }
}
