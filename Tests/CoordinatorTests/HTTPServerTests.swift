import Foundation
import HTTP
import Synchronization
import Testing

/// The HTTP/1.1 server and client against each other, against raw sockets and against curl.
@Suite struct HTTPServerTests {
    final class Server: Sendable {
        let server: HTTPServer
        let done = Atomic<Bool>(false)

        init(options: HTTPServerOptions = HTTPServerOptions()) throws {
            server = try HTTPServer(listen: Endpoint(host: "127.0.0.1", port: 0), options: options)
            server.start(
                { request in
                    switch request.path {
                    case "/boom": throw HTTPError("handler failed")
                    case "/slow":
                        try await Task.sleep(for: .milliseconds(300))
                        return .text(200, "slow done")
                    default:
                        return HTTPResponse(
                            status: 200,
                            body: Array("\(request.method) \(request.path)?\(request.query) \(request.body.count)".utf8)
                        )
                    }
                },
                done: { [self] in done.store(true, ordering: .releasing) }
            )
        }
    }

    func raw(_ endpoint: Endpoint, _ bytes: String) throws -> String {
        let stream = try TCPStream.connect(endpoint, timeoutSeconds: 5)
        try stream.write(Array(bytes.utf8))
        var out: [UInt8] = []
        while true {
            let chunk = try stream.read(max: 65536)
            if chunk.isEmpty { break }
            out += chunk
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func keepAliveChunkedAndErrorsPerConnection() async throws {
        let s = try Server()
        defer { s.server.shutdown() }
        let e = s.server.endpoint
        // Two pipelined requests on one connection, the second chunked and closing.
        let both = try await offPool {
            try raw(
                e,
                "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2;ext\r\nde\r\n0\r\n\r\n"
            )
        }
        #expect(both.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        #expect(both.contains("GET /a?x=1 0") && both.contains("POST /b? 5"))
        // Malformed request line → 400 and the connection closes; the server keeps serving.
        let bad = try await offPool { try raw(e, "NONSENSE\r\n\r\n") }
        #expect(bad.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && bad.contains("malformed request line"))
        let badHeader = try await offPool { try raw(e, "GET / HTTP/1.1\r\nno colon here\r\n\r\n") }
        #expect(badHeader.hasPrefix("HTTP/1.1 400 "))
        // A throwing handler → 500 for that request only.
        let boom = try await offPool { try raw(e, "GET /boom HTTP/1.1\r\nConnection: close\r\n\r\n") }
        #expect(boom.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
        // Oversized chunked body → 413.
        let small = try Server(
            options: {
                var o = HTTPServerOptions(); o.maxBodyBytes = 4; return o
            }()
        )
        defer { small.server.shutdown() }
        let e2 = small.server.endpoint
        let big = try await offPool {
            try raw(e2, "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n")
        }
        #expect(big.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
        // A client that connects and vanishes mid-request does not disturb others.
        let quitter = try TCPStream.connect(e)
        try quitter.write(Array("POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nab".utf8))
        quitter.close()
        let client = HTTPClient(endpoint: e)
        #expect(try await offPool { try client.get("/after").text } == "GET /after? 0")
    }

    @Test func curlTalksToIt() async throws {
        let s = try Server()
        defer { s.server.shutdown() }
        let port = s.server.endpoint.port
        let out = try await offPool { () throws -> String in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            p.arguments = [
                "-s", "--data-binary", "hello", "http://127.0.0.1:\(port)/c?q", "http://127.0.0.1:\(port)/d",
            ]
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        #expect(out == "POST /c?q 5POST /d? 5")
    }

    @Test func idleConnectionsTimeOutAndShutdownDrainsInFlightRequests() async throws {
        let s = try Server(
            options: {
                var o = HTTPServerOptions(); o.readTimeoutSeconds = 1; return o
            }()
        )
        let e = s.server.endpoint
        // A silent client is disconnected after the read timeout (no response for a connection that sent nothing).
        let idle = try await offPool { try raw(e, "") }
        #expect(idle.isEmpty)
        // Shutdown while a slow request runs: it still completes, then run() returns.
        let client = HTTPClient(endpoint: e)
        async let slow = offPool { try client.get("/slow").text }
        try await Task.sleep(for: .milliseconds(100))
        s.server.shutdown()
        #expect(try await slow == "slow done\n")
        for _ in 0..<100 where !s.done.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(20)) }
        let finished = s.done.load(ordering: .acquiring)
        #expect(finished)
        #expect(throws: HTTPError.self) { try TCPStream.connect(e, timeoutSeconds: 1) }
    }
}
