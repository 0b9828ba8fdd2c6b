import Contrast
import Foundation
import Kube
import Testing

/// Seed steps 5–8 and the optional SAN section with real peers: `coordinator serve`, `set`, `verify`,
/// `initializer`, then `openssl s_server` with the issued chain, `openssl s_client` and `curl` with verify/mesh-ca.pem.
@Suite(.serialized) struct SeedStepEightTests {
    /// A running `contrast-pipe coordinator serve`.
    final class Served {
        let process: Process
        let port: Int

        init(in dir: String, port: Int, extra: [String] = []) throws {
            self.port = port
            let (p, _, _) = try CLI.start(
                [
                    "coordinator", "serve", "--simulated-tee", "--state", "state", "--initdata", "coordinator.toml",
                    "--listen", "127.0.0.1:\(port)", "-q",
                ]
                    + extra,
                in: dir
            )
            process = p
            // The first start creates the simulated platform (RSA-4096 keys): wait for the port.
            for _ in 0..<1500 where !HTTPSServer.canConnect(port) { usleep(20_000) }
        }

        /// SIGTERM: graceful shutdown; returns the exit status.
        func stop() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    }

    /// `openssl s_server` with a certificate chain and key.
    final class TLSServer {
        let process = Process()
        let port: Int

        init(in dir: String, cert: String, key: String) throws {
            port = try HTTPSServer.freePort()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = [
                "s_server", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-cert_chain", cert, "-www",
                "-quiet",
            ]
            process.currentDirectoryURL = URL(fileURLWithPath: dir)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<200 where !HTTPSServer.canConnect(port) { usleep(20_000) }
        }

        deinit {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func tool(_ path: String, _ args: [String], in dir: String) throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLI.Result(
            status: p.terminationStatus,
            stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self)
        )
    }

    static func sClient(_ port: Int, in dir: String) throws -> CLI.Result {
        try tool(
            "/usr/bin/openssl",
            ["s_client", "-CAfile", "verify/mesh-ca.pem", "-verify_return_error", "-connect", "127.0.0.1:\(port)"],
            in: dir
        )
    }

    static func curl(_ port: Int, in dir: String) throws -> CLI.Result {
        try tool(
            "/usr/bin/curl",
            ["-sS", "-o", "/dev/null", "--cacert", "verify/mesh-ca.pem", "https://127.0.0.1:\(port)/"],
            in: dir
        )
    }

    /// Writes each workload's initdata TOML (decoded from the rendered resources) as `<name>.toml`.
    static func extractInitdata(_ dir: TempDir) throws {
        let docs = try KubeDocuments(yaml: dir.read("deployment/resources.yml")!, file: "resources.yml")
        for r in docs.resources {
            guard let value = r.podAnnotations[Initdata.annotation] else { continue }
            try Data(try Initdata.decode(annotation: value).toml).write(
                to: URL(fileURLWithPath: "\(dir.path)/\(r.name).toml")
            )
        }
    }

    @Test func setVerifyInitializerAndTheFrontendWithOpenSSLAndCurl() throws {
        let dir = try EmojivotoPipelineTests().copy()
        let render = try CLI.run(["run", "apply"], in: dir.path)
        #expect(render.status == 0, "\(render.stderr)")
        try Self.extractInitdata(dir)
        let port = try HTTPSServer.freePort()
        var served: Served? = try Served(in: dir.path, port: port)
        let c = ["-c", "127.0.0.1:\(port)", "--insecure-simulated-root", "state/simulated-tee/ask_ark.pem"]

        // Step 6: set.
        let set = try CLI.run(
            ["set"] + c + ["-m", "deployment/manifest.json", "deployment/resources.yml"],
            in: dir.path
        )
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.contains("Manifest set successfully"))
        #expect(set.stderr.contains("WARNING: trusting a SIMULATED attestation root"))
        for f in ["coordinator-root-ca.pem", "mesh-ca.pem", "seed-shares.json"] { #expect(dir.read(f) != nil, "\(f)") }
        // Step 7: verify writes verify/ like Contrast.
        let verify = try CLI.run(["verify"] + c + ["-m", "deployment/manifest.json"], in: dir.path)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(dir.read("verify/manifest.0.json") == dir.read("deployment/manifest.json"))
        #expect(dir.read("verify/mesh-ca.pem") == dir.read("mesh-ca.pem"))
        #expect(dir.read("verify/latest-transition")?.count == 64)
        let manifest = try Manifest(json: Array(dir.read("deployment/manifest.json")!.utf8))
        for hash in manifest.policies.keys { #expect(dir.read("verify/initdata.\(hash).toml") != nil) }

        // Step 8: the web workload's initializer, its certificate served by openssl, checked with the mesh CA.
        let initializer = try CLI.run(["initializer"] + c + ["--initdata", "web.toml", "--out", "web"], in: dir.path)
        #expect(initializer.status == 0, "\(initializer.stderr)")
        #expect(dir.read("web/key.pem")?.hasPrefix("-----BEGIN PRIVATE KEY-----") == true)
        let keyMode =
            try FileManager.default.attributesOfItem(atPath: dir.path + "/web/key.pem")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        #expect(dir.read("web/workload-secret-seed")?.count == 64)
        let web = try TLSServer(in: dir.path, cert: "web/certChain.pem", key: "web/key.pem")
        let ok = try Self.sClient(web.port, in: dir.path)
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("Verify return code: 0 (ok)"))
        // curl checks the SAN: the certificate names web and *, not the IP.
        let noSAN = try Self.curl(web.port, in: dir.path)
        #expect(noSAN.status == 60, "\(noSAN.stderr)")
        #expect(noSAN.stderr.contains("no alternative certificate subject name matches target host name '127.0.0.1'"))

        // Optional section: add the IP SAN in the pipeline, re-render, set (signed update, CA rotation), verify.
        let pipeline = dir.read("contrast.pipeline.yaml")!
        try dir.write(
            "contrast.pipeline.yaml",
            pipeline.replacingOccurrences(
                of: "      minimum-tcb-file: snphost-tcb.txt\n",
                with: "      minimum-tcb-file: snphost-tcb.txt\n      sans: {web: [127.0.0.1]}\n"
            )
        )
        #expect(try CLI.run(["run", "apply"], in: dir.path).status == 0)
        let oldMesh = dir.read("mesh-ca.pem")
        let update = try CLI.run(
            ["set"] + c + ["-m", "deployment/manifest.json", "deployment/resources.yml"],
            in: dir.path
        )
        #expect(update.status == 0, "\(update.stderr)")
        #expect(dir.read("mesh-ca.pem") != oldMesh)
        #expect(try CLI.run(["verify"] + c + ["-m", "deployment/manifest.json"], in: dir.path).status == 0)
        #expect(dir.read("verify/manifest.1.json") == dir.read("deployment/manifest.json"))
        // The certificate issued under the previous mesh CA is rejected now.
        let stale = try Self.sClient(web.port, in: dir.path)
        #expect(stale.status != 0)
        #expect(
            stale.stdout.contains("Verify return code: 20 (unable to get local issuer certificate)"),
            "\(stale.stdout)"
        )
        // Re-issued (a restarted workload): curl accepts the IP now. (Without --insecure-simulated-root the
        // initializer finds the simulated platform through --state, like the Coordinator it runs next to.)
        let reissue = try CLI.run(
            ["initializer", "-c", "127.0.0.1:\(port)", "--state", "state", "--initdata", "web.toml", "--out", "web2"],
            in: dir.path
        )
        #expect(reissue.status == 0, "\(reissue.stderr)")
        let web2 = try TLSServer(in: dir.path, cert: "web2/certChain.pem", key: "web2/key.pem")
        let withSAN = try Self.curl(web2.port, in: dir.path)
        #expect(withSAN.status == 0, "\(withSAN.stderr)")
        // The old manifest is no longer the active one.
        try dir.write("old-manifest.json", dir.read("verify/manifest.0.json")!)
        let mismatch = try CLI.run(["verify"] + c + ["-m", "old-manifest.json"], in: dir.path)
        #expect(mismatch.status == 1)
        #expect(mismatch.stderr.contains("active manifest does not match expected manifest"))
        // set on an up-to-date Coordinator sends nothing (no rotation).
        let mesh = dir.read("mesh-ca.pem")
        let again = try CLI.run(
            ["set"] + c + ["-m", "deployment/manifest.json", "deployment/resources.yml"],
            in: dir.path
        )
        #expect(again.stdout.contains("already has this manifest"))
        #expect(dir.read("mesh-ca.pem") == mesh)

        // Restart (SIGTERM, graceful) with state and seed: Ready, same root CA and history.
        #expect(served?.stop() == 0)
        served = try Served(in: dir.path, port: port)
        let rootBefore = dir.read("verify/coordinator-root-ca.pem")
        #expect(try CLI.run(["verify"] + c + ["-m", "deployment/manifest.json"], in: dir.path).status == 0)
        #expect(dir.read("verify/coordinator-root-ca.pem") == rootBefore)
        #expect(served?.stop() == 0)
        // Without the seed: recovery mode until `recover` with seedshare-owner.pem and seed-shares.json.
        try FileManager.default.removeItem(atPath: dir.path + "/state/secrets/seed.json")
        served = try Served(in: dir.path, port: port)
        let readiness = try Self.tool(
            "/usr/bin/curl",
            ["-s", "http://127.0.0.1:\(port)/probe/readiness"],
            in: dir.path
        )
        #expect(readiness.stdout == "recovery mode\n")
        let refused = try CLI.run(
            ["set"] + c + ["-m", "deployment/manifest.json", "deployment/resources.yml"],
            in: dir.path
        )
        #expect(refused.status == 1 && refused.stderr.contains("recovery mode"))
        let recover = try CLI.run(["recover"] + c + ["-m", "deployment/manifest.json"], in: dir.path)
        #expect(recover.status == 0, "\(recover.stderr)")
        #expect(try CLI.run(["verify"] + c + ["-m", "deployment/manifest.json"], in: dir.path).status == 0)
        #expect(dir.read("verify/coordinator-root-ca.pem") == rootBefore)
        #expect(dir.read("verify/manifest.1.json") == dir.read("deployment/manifest.json"))
        _ = served?.stop()
    }

    @Test func pipelineAgainstARemoteCoordinator() throws {
        let dir = try EmojivotoPipelineTests().copy()
        #expect(try CLI.run(["run", "apply"], in: dir.path).status == 0)
        try Self.extractInitdata(dir)
        let port = try HTTPSServer.freePort()
        let served = try Served(in: dir.path, port: port)
        defer { _ = served.stop() }
        // The same pipeline with the coordinator stage pointing at the running Coordinator (address from a command,
        // as `kubectl get svc coordinator -o jsonpath=...` would print it).
        let pipeline = dir.read("contrast.pipeline.yaml")!.replacingOccurrences(
            of:
                "      mode: embedded\n      resources: [deployment/resources.yml]\n      from: generate\n      state: coordinator/state\n",
            with:
                "      mode: remote\n      address-command: echo 127.0.0.1\n      port: \(port)\n      insecure-simulated-root: state/simulated-tee/ask_ark.pem\n"
        )
        #expect(pipeline.contains("mode: remote"))
        try dir.write("contrast.pipeline.yaml", pipeline)
        let run = try CLI.run(["run"], in: dir.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(dir.read("coordinator/endpoint.json")?.contains("\"address\" : \"127.0.0.1:\(port)\"") == true)
        #expect(dir.read("verify/manifest.0.json") == dir.read("deployment/manifest.json"))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/coordinator/state"))
        let again = try CLI.run(["run", "--json"], in: dir.path)
        #expect(again.stdout.contains("\"ran\":0"), "\(again.stdout)")
        // The Coordinator gets the manifest once: a forced set finds it current and sends nothing.
        let forced = try CLI.run(["run", "--force", "set"], in: dir.path)
        #expect(forced.status == 0)
        let history = try Self.tool("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/probe/readiness"], in: dir.path)
        #expect(history.stdout == "ready\n")
        #expect(
            try CLI.run(
                [
                    "verify", "-c", "127.0.0.1:\(port)", "--insecure-simulated-root", "state/simulated-tee/ask_ark.pem",
                    "-m", "deployment/manifest.json",
                ],
                in: dir.path
            ).status == 0
        )
        #expect(dir.read("verify/manifest.1.json") == nil)
    }

    @Test func coordinatorOverHTTPS() throws {
        let dir = try EmojivotoPipelineTests().copy()
        #expect(try CLI.run(["run", "apply"], in: dir.path).status == 0)
        try Self.extractInitdata(dir)
        let gen = try Self.tool(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "tls-key.pem", "-out", "tls.pem",
                "-days", "2", "-subj", "/CN=coordinator", "-addext", "subjectAltName=IP:127.0.0.1",
            ],
            in: dir.path
        )
        #expect(gen.status == 0, "\(gen.stderr)")
        let port = try HTTPSServer.freePort()
        let served = try Served(in: dir.path, port: port, extra: ["--tls-cert", "tls.pem", "--tls-key", "tls-key.pem"])
        defer { _ = served.stop() }
        let curl = try Self.tool(
            "/usr/bin/curl",
            ["-sS", "--cacert", "tls.pem", "https://127.0.0.1:\(port)/probe/startup"],
            in: dir.path
        )
        #expect(curl.stdout == "awaiting manifest\n", "\(curl.stderr)")
        let handshake = try Self.tool(
            "/usr/bin/openssl",
            ["s_client", "-CAfile", "tls.pem", "-verify_return_error", "-connect", "127.0.0.1:\(port)"],
            in: dir.path
        )
        #expect(handshake.stdout.contains("Verify return code: 0 (ok)"))
        let c = [
            "-c", "127.0.0.1:\(port)", "--tls-ca", "tls.pem", "--insecure-simulated-root",
            "state/simulated-tee/ask_ark.pem",
        ]
        let set = try CLI.run(
            ["set"] + c + ["-m", "deployment/manifest.json", "deployment/resources.yml"],
            in: dir.path
        )
        #expect(set.status == 0, "\(set.stderr)")
        #expect(try CLI.run(["verify"] + c + ["-m", "deployment/manifest.json"], in: dir.path).status == 0)
        // Plain HTTP against the TLS listener fails with a clear error; so does a CA that did not sign the server.
        let plain = try CLI.run(
            [
                "verify", "-c", "127.0.0.1:\(port)", "--retry", "0", "--insecure-simulated-root",
                "state/simulated-tee/ask_ark.pem", "-m", "deployment/manifest.json",
            ],
            in: dir.path
        )
        #expect(plain.status == 1)
        let wrongCA = try CLI.run(
            [
                "verify", "-c", "127.0.0.1:\(port)", "--tls-ca", "state/simulated-tee/ask_ark.pem",
                "--insecure-simulated-root", "state/simulated-tee/ask_ark.pem", "-m", "deployment/manifest.json",
            ],
            in: dir.path
        )
        #expect(wrongCA.status == 1)
        #expect(wrongCA.stderr.contains("certificate verification failed"), "\(wrongCA.stderr)")
    }

    @Test func embeddedCoordinatorOnAnotherGeneration() throws {
        let dir = try EmojivotoPipelineTests().copy()
        let pipeline = dir.read("contrast.pipeline.yaml")!
            .replacingOccurrences(
                of: "      reference-values: simulated\n",
                with: "      reference-values: simulated-genoa\n"
            )
            .replacingOccurrences(
                of: "      state: coordinator/state\n",
                with: "      state: coordinator/state\n      product: turin\n"
            )
        try dir.write("contrast.pipeline.yaml", pipeline)
        // A Turin Coordinator does not match Genoa reference values: set refuses it.
        let mismatch = try CLI.run(["run"], in: dir.path)
        #expect(mismatch.status == 1)
        #expect(mismatch.stderr.contains("snp[0].ProductName (report from a Turin CPU)"), "\(mismatch.stderr)")
        // A fresh state as Genoa matches.
        try FileManager.default.removeItem(atPath: dir.path + "/coordinator/state")
        try dir.write(
            "contrast.pipeline.yaml",
            pipeline.replacingOccurrences(of: "product: turin", with: "product: genoa")
        )
        let genoa = try CLI.run(["run"], in: dir.path)
        #expect(genoa.status == 0, "\(genoa.stderr)")
        #expect(dir.read("coordinator/state/simulated-tee/product") == "Genoa\n")
        #expect(dir.read("verify/manifest.0.json")?.contains("\"ProductName\": \"Genoa\"") == true)
    }

    @Test func usageErrorsExitTwo() throws {
        let dir = try TempDir()
        let noAddress = try CLI.run(["set", "x.yml"], in: dir.path)
        #expect(noAddress.status == 2 && noAddress.stderr.contains("missing -c HOST:PORT"))
        let noTEE = try CLI.run(["coordinator", "serve"], in: dir.path)
        #expect(noTEE.status == 2 && noTEE.stderr.contains("pass --simulated-tee"))
        let badManifest = try CLI.run(["verify", "-c", "127.0.0.1:1", "-m", "missing.json"], in: dir.path)
        #expect(badManifest.status == 2 && badManifest.stderr.contains("cannot read missing.json"))
        // An invalid manifest: exit 2 with Contrast's validation message.
        try dir.write("bad.json", "{\"Policies\": {}, \"ReferenceValues\": {}}")
        let invalid = try CLI.run(["verify", "-c", "127.0.0.1:1", "-m", "bad.json"], in: dir.path)
        #expect(invalid.status == 2 && invalid.stderr.contains("bad.json: invalid manifest"), "\(invalid.stderr)")
        // Nobody listening: a clear error naming the address, exit 1.
        var m = Manifest()
        m.policies[String(repeating: "a", count: 64)] = .init(
            sans: ["coordinator"],
            workloadSecretID: "c",
            role: "coordinator"
        )
        m.snp = [
            ReferenceValues.simulatedSNP(minimumTCB: [
                "BootloaderVersion": 3, "TEEVersion": 0, "SNPVersion": 8, "MicrocodeVersion": 115,
            ])
        ]
        try dir.write("manifest.json", m.json())
        let port = try HTTPSServer.freePort()
        let unreachable = try CLI.run(["verify", "-c", "127.0.0.1:\(port)", "-m", "manifest.json"], in: dir.path)
        #expect(unreachable.status == 1)
        #expect(
            unreachable.stderr.contains("cannot reach the coordinator at 127.0.0.1:\(port)"),
            "\(unreachable.stderr)"
        )
    }
}
