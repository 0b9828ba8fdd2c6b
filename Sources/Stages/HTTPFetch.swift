import Foundation
import HTTP

/// An HTTPS GET with redirects, through the project's HTTP/1.1 client (`HTTP.HTTPClient` over the OpenSSL client:
/// `Connection: close`, Content-Length, chunked or read-to-EOF bodies).
enum HTTPFetch {
    struct Failure: Error, CustomStringConvertible {
        var message: String
        var transient: Bool
        var description: String { message }
    }

    /// Fetches `url` (https only), following up to `redirects` redirects.
    static func get(_ url: String, caFile: String?, redirects: Int = 5, limit: Int = 1 << 30) throws(Failure) -> [UInt8]
    {
        var current = url
        for _ in 0...redirects {
            guard let parts = URLComponents(string: current), parts.scheme == "https", let host = parts.host else {
                throw Failure(message: "unsupported URL \(current) (https:// only)", transient: false)
            }
            var client = HTTPClient(
                endpoint: Endpoint(host: host, port: parts.port ?? 443),
                useTLS: true,
                tlsCAFile: caFile
            )
            client.maxBodyBytes = limit
            let request = HTTPRequest(
                method: "GET",
                path: parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath,
                query: parts.percentEncodedQuery ?? "",
                headers: [("User-Agent", "contrast-pipe"), ("Accept", "*/*")]
            )
            let response: HTTPResponse
            do { response = try client.send(request) } catch {
                throw Failure(message: error.message, transient: error.transient)
            }
            switch response.status {
            case 200:
                return response.body
            case 301, 302, 303, 307, 308:
                guard let location = response.header("location"),
                    let next = URL(string: location, relativeTo: URL(string: current))?.absoluteString
                else { throw Failure(message: "\(current): redirect without Location", transient: false) }
                current = next
            default:
                throw Failure(
                    message: "\(current): HTTP \(response.status)",
                    transient: response.status >= 500 || response.status == 429
                )
            }
        }
        throw Failure(message: "\(url): more than \(redirects) redirects", transient: false)
    }
}
