import Crypto
import Foundation
import Testing

/// A real HTTPS peer: `openssl s_server -WWW` serving a directory with a self-signed certificate.
final class HTTPSServer {
    let process = Process()
    let port: Int
    let dir: TempDir

    init(serving dir: TempDir) throws {
        self.dir = dir
        let gen = Process()
        gen.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        gen.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem",
            "-out", "cert.pem", "-days", "30", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        ]
        gen.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        gen.standardError = FileHandle.nullDevice
        try gen.run()
        gen.waitUntilExit()
        port = try Self.freePort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_server", "-WWW", "-accept", "127.0.0.1:\(port)", "-cert", "cert.pem", "-key", "key.pem"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // s_server buffers its "ACCEPT" line, so wait until the port accepts connections.
        for _ in 0..<200 where !Self.canConnect(port) { usleep(20_000) }
    }

    /// A port that was free a moment ago (bind to port 0, read it back, close).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    func stop() {
        // s_server does not exit on SIGTERM while it waits in accept().
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { stop() } }
}

let payload = "kind: List\nitems: []\n"

func sha256(_ s: String) throws -> String {
    SHA256.hash(string: s).hex
}

@Suite(.serialized) struct DownloadTests {
    func pipeline(url: String, sha: String?, output: String = "res/app.yml", extra: String = "") -> String {
        """
        version: 1
        name: dl
        stages:
          fetch:
            download:
              url: \(url)
        \(sha.map { "      sha256: \($0)\n" } ?? "")      output: \(output)
        \(extra)
        """
    }

    @Test func httpsPinnedDownloadThenCachedForever() throws {
        let served = try TempDir()
        try served.write("app.yml", payload)
        let server = try HTTPSServer(serving: served)
        let sha = try sha256(payload)
        let ws = try TempDir()
        try FileManager.default.copyItem(atPath: served.path + "/cert.pem", toPath: ws.path + "/ca.pem")
        let url = "https://localhost:\(server.port)/app.yml"
        try ws.write("contrast.pipeline.yaml", pipeline(url: url, sha: sha, extra: "      ca-file: ca.pem"))
        let first = try CLI.run(["run", "--json"], in: ws.path)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(ws.read("res/app.yml") == payload)
        #expect(first.stdout.contains("\"download.network\":1"))
        server.stop()
        // Same artifact to another path: a new action key, but the pinned blob is in the store: no network.
        try ws.write("contrast.pipeline.yaml", pipeline(url: url, sha: sha, output: "res/copy.yml", extra: "      ca-file: ca.pem"))
        let second = try CLI.run(["run", "--json"], in: ws.path)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("\"download.store\":1"))
        #expect(ws.read("res/copy.yml") == payload)
    }

    @Test func digestMismatchNamesBothDigestsAndWritesNothing() throws {
        let served = try TempDir()
        try served.write("app.yml", payload)
        let server = try HTTPSServer(serving: served)
        defer { server.stop() }
        let ws = try TempDir()
        try FileManager.default.copyItem(atPath: served.path + "/cert.pem", toPath: ws.path + "/ca.pem")
        let wrong = String(repeating: "ab", count: 32)
        try ws.write(
            "contrast.pipeline.yaml",
            pipeline(url: "https://localhost:\(server.port)/app.yml", sha: wrong, extra: "      ca-file: ca.pem"))
        let r = try CLI.run(["run"], in: ws.path)
        #expect(r.status == 2)
        #expect(
            r.stderr.contains(
                "https://localhost:\(server.port)/app.yml: sha256 mismatch: expected \(wrong), got \(try sha256(payload))"))
        #expect(!FileManager.default.fileExists(atPath: ws.path + "/res/app.yml"))
    }

    @Test func untrustedCertificateIsRefused() throws {
        let served = try TempDir()
        try served.write("app.yml", payload)
        let server = try HTTPSServer(serving: served)
        defer { server.stop() }
        let ws = try TempDir()
        try ws.write(
            "contrast.pipeline.yaml",
            pipeline(url: "https://localhost:\(server.port)/app.yml", sha: try sha256(payload), extra: "      retries: 0"))
        let r = try CLI.run(["run"], in: ws.path)
        #expect(r.status == 1)
        #expect(r.stderr.contains("certificate verification failed: self-signed certificate"))
    }

    @Test func mirrorByNameAndByDigestBeforeTheNetwork() throws {
        let ws = try TempDir()
        let sha = try sha256(payload)
        try ws.write("mirror/app.yml", payload)
        // The host does not exist: only the mirror can satisfy this.
        let url = "https://downloads.invalid/v1/app.yml"
        try ws.write("contrast.pipeline.yaml", pipeline(url: url, sha: sha, extra: "      mirror: mirror"))
        #expect(try CLI.run(["run"], in: ws.path).status == 0)
        #expect(ws.read("res/app.yml") == payload)
        let byDigest = try TempDir()
        try byDigest.write("mirror/\(sha)", payload)
        try byDigest.write("contrast.pipeline.yaml", pipeline(url: url, sha: sha, extra: "      mirror: mirror"))
        #expect(try CLI.run(["run"], in: byDigest.path).status == 0)
        // A tampered mirror file is an error, not a fallback.
        let tampered = try TempDir()
        try tampered.write("mirror/app.yml", payload + "# evil\n")
        try tampered.write("contrast.pipeline.yaml", pipeline(url: url, sha: sha, extra: "      mirror: mirror"))
        let r = try CLI.run(["run"], in: tampered.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("mirror file mirror/app.yml: sha256 mismatch: expected \(sha), got "))
    }

    @Test func fileURLsAndUnpinnedDownloads() throws {
        let ws = try TempDir()
        try ws.write("upstream/app.yml", payload)
        try ws.write("contrast.pipeline.yaml", pipeline(url: "file:upstream/app.yml", sha: nil))
        let refused = try CLI.run(["run"], in: ws.path)
        #expect(refused.status == 2)
        #expect(
            refused.stderr.hasPrefix(
                "contrast.pipeline.yaml:6:12: error: stage 'fetch' (download) has no 'sha256' pin (set 'allow-unpinned: true' to download without one)"
            ))
        try ws.write(
            "contrast.pipeline.yaml", pipeline(url: "file://\(ws.path)/upstream/app.yml", sha: nil, extra: "      allow-unpinned: true"))
        let allowed = try CLI.run(["run"], in: ws.path)
        #expect(allowed.status == 0)
        #expect(allowed.stderr.contains("warning: stage fetch: file://\(ws.path)/upstream/app.yml is not pinned; it has sha256 \(try sha256(payload))"))
        #expect(ws.read("res/app.yml") == payload)
    }

    @Test func networkErrorsAreRetriedThenReported() throws {
        let ws = try TempDir()
        // Port 9 on loopback: nothing listens, connection refused at once.
        try ws.write(
            "contrast.pipeline.yaml",
            pipeline(url: "https://localhost:9/app.yml", sha: String(repeating: "0", count: 64), extra: "      retries: 2"))
        let r = try CLI.run(["run"], in: ws.path)
        #expect(r.status == 1)
        #expect(r.stderr.contains("download https://localhost:9/app.yml failed: cannot connect to localhost:9: Connection refused"))
        #expect(r.stderr.contains("retrying in 0.5s"))
        #expect(r.stderr.contains("retrying in 1.0s"))
    }
}
