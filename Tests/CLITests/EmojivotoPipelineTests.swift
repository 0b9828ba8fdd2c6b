import Contrast
import Crypto
import Foundation
import Kube
import Testing
import YAML

/// The shipped emojivoto pipeline, end to end on a copy of pipelines/emojivoto.
@Suite(.serialized) struct EmojivotoPipelineTests {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("pipelines/emojivoto").path

    func copy() throws -> TempDir {
        let dir = try TempDir()
        for item in ["contrast.pipeline.yaml", "cluster.pipeline.yaml", "mirror", "patches", "snphost-tcb.txt"] {
            try FileManager.default.copyItem(atPath: "\(Self.source)/\(item)", toPath: "\(dir.path)/\(item)")
        }
        // The copy keeps its cache inside itself.
        let text = dir.read("contrast.pipeline.yaml")!.replacingOccurrences(
            of: "cache: ../../cache",
            with: "cache: cache"
        )
        try dir.write("contrast.pipeline.yaml", text)
        return dir
    }

    func summary(_ r: CLI.Result) -> [String: Any] {
        let last = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] ?? [:]
    }

    @Test func rendersVerifiableOutputAndRerunsOnlyWhatChanged() throws {
        let dir = try copy()
        let first = try CLI.run(["run", "--json"], in: dir.path)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(summary(first)["ran"] as? Int == 10)
        // Steps 5–7 on the embedded Coordinator: set wrote the CAs and seed shares, verify wrote verify/.
        #expect(dir.read("verify/manifest.0.json") == dir.read("deployment/manifest.json"))
        #expect(dir.read("verify/mesh-ca.pem") == dir.read("mesh-ca.pem"))
        #expect(dir.read("seed-shares.json")?.contains("\"SeedShares\"") == true)
        #expect(dir.read("coordinator/endpoint.json")?.contains("\"mode\" : \"embedded\"") == true)

        // Every annotation decodes to a TOML document whose sha256 is a Policies key; the manifest validates.
        let manifest = try Manifest(json: Array(dir.read("deployment/manifest.json")!.utf8))
        let docs = try KubeDocuments(yaml: dir.read("deployment/resources.yml")!, file: "resources.yml")
        var digests: [String] = []
        for r in docs.resources where r.hasPodSpec {
            let value = try #require(r.podAnnotations[Initdata.annotation])
            let initdata = try Initdata.decode(annotation: value)
            #expect(
                String(decoding: initdata.toml, as: UTF8.self).hasPrefix(
                    "version = '0.1.0'\nalgorithm = 'sha256'\n\n[data]\n"
                )
            )
            #expect(try initdata.dataEntries()["policy.rego"]?.contains("package agent_policy") == true)
            #expect(manifest.policies[SHA256.hash(initdata.toml).hex] != nil)
            digests.append(initdata.digest)
            #expect(r.podSpec?["runtimeClassName"]?.scalar?.hasPrefix("contrast-cc-metal-qemu-snp-") == true)
        }
        #expect(digests.count == 5)
        #expect(Set(digests) == Set(manifest.policies.keys))
        let verdict = manifest.validate()
        #expect(verdict.errors.isEmpty)
        #expect(verdict.expectedMissing.isEmpty)
        #expect(manifest.snp[0]["MinimumTCB"]?["MicrocodeVersion"] == .number(115))
        #expect(manifest.policies.values.filter { $0.role == "coordinator" }.count == 1)
        let web = docs.resources.first { $0.name == "web" && $0.kind == "Deployment" }
        let inits = web?.podSpec?["initContainers"]?.items?.compactMap { $0["name"]?.scalar }
        #expect(inits == ["contrast-initializer", "contrast-service-mesh"])
        // Keys: in the workspace, mode 0600.
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.path + "/workload-owner.pem")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let second = try CLI.run(["run", "--json"], in: dir.path)
        #expect(summary(second)["ran"] as? Int == 0)
        #expect(try CLI.run(["check"], in: dir.path).status == 0)
        // The declarative variant makes the same changes as the seed's diffs.
        let declarative = try KubeDocuments(yaml: dir.read("build/emojivoto-demo.declarative.yml")!, file: "d.yml")
        let diffed = try KubeDocuments(yaml: dir.read("build/emojivoto-demo.yml")!, file: "p.yml")
        for (a, b) in zip(declarative.resources, diffed.resources) where a.hasPodSpec {
            #expect(a.podSpec?["runtimeClassName"] == b.podSpec?["runtimeClassName"])
            #expect(a.podAnnotations == b.podAnnotations)
            #expect(
                a.podSpec?["containers"]?.items?[0]["resources"] == b.podSpec?["containers"]?.items?[0]["resources"]
            )
        }
        // The cluster variant loads and has the kubectl stages.
        #expect(
            try CLI.run(["graph", "-f", "cluster.pipeline.yaml"], in: dir.path).stdout.contains(
                "\"apply-runtime\" -> \"apply\""
            )
        )

        // Upstream changes the web image: re-pin the download, and only web's policy is recomputed.
        let gitops = dir.path + "/gitops"
        let before = try FileManager.default.contentsOfDirectory(atPath: gitops).sorted().map {
            ($0, try FileManager.default.attributesOfItem(atPath: "\(gitops)/\($0)")[.systemFileNumber] as? Int)
        }
        let mirror = dir.read("mirror/emojivoto-demo.yml")!
        let edited = mirror.replacingOccurrences(
            of: "emojivoto-web:v11@sha256:d21f9fdb794f754b076344ce01c4858c499617c952cc6a941ac3cefbf5ccedfd",
            with: "emojivoto-web:v12@sha256:1111111111111111111111111111111111111111111111111111111111111111"
        )
        try dir.write("mirror/emojivoto-demo.yml", edited)
        try dir.write(
            "contrast.pipeline.yaml",
            dir.read("contrast.pipeline.yaml")!.replacingOccurrences(
                of: SHA256.hash(string: mirror).hex,
                with: SHA256.hash(string: edited).hex
            )
        )
        let meshBefore = dir.read("mesh-ca.pem")
        let third = try CLI.run(["run", "--json"], in: dir.path)
        #expect(third.status == 0, "\(third.stderr)")
        let counters = summary(third)["counters"] as? [String: Int] ?? [:]
        #expect(counters["generate.policy.miss"] == 1)
        #expect(counters["generate.policy.hit"] == nil)
        #expect(counters["generate.document.miss"] == 1)
        #expect(counters["generate.document.reused"] == 13)  // copied from the previous output, no store reads
        #expect(counters["generate.document.hit"] == nil)
        // fetch-demo, patch, patch-declarative, generate, apply, coordinator (its input changed), set, verify
        #expect(summary(third)["ran"] as? Int == 8)
        // The update went through set (signed, mesh CA rotated) and verify (two manifests in the history).
        #expect(dir.read("mesh-ca.pem") != meshBefore)
        #expect(dir.read("verify/mesh-ca.pem") == dir.read("mesh-ca.pem"))
        #expect(dir.read("verify/manifest.1.json") == dir.read("deployment/manifest.json"))
        #expect(summary(try CLI.run(["run", "--json"], in: dir.path))["ran"] as? Int == 0)
        let after = try FileManager.default.contentsOfDirectory(atPath: gitops).sorted().map {
            ($0, try FileManager.default.attributesOfItem(atPath: "\(gitops)/\($0)")[.systemFileNumber] as? Int)
        }
        let changed = zip(before, after).filter { $0.0.1 != $0.1.1 }.map(\.0.0)
        #expect(changed == ["deployment-default-web.yaml"])

        // An output edited by hand is never a source of reused documents: with a tampered resources.yml and
        // another web image, the unchanged documents come from the memo store and the output is whole again.
        try dir.write("deployment/resources.yml", "tampered\n")
        let edited2 = mirror.replacingOccurrences(
            of: "emojivoto-web:v11@sha256:d21f9fdb794f754b076344ce01c4858c499617c952cc6a941ac3cefbf5ccedfd",
            with: "emojivoto-web:v13@sha256:3333333333333333333333333333333333333333333333333333333333333333"
        )
        try dir.write("mirror/emojivoto-demo.yml", edited2)
        try dir.write(
            "contrast.pipeline.yaml",
            dir.read("contrast.pipeline.yaml")!.replacingOccurrences(
                of: SHA256.hash(string: edited).hex,
                with: SHA256.hash(string: edited2).hex
            )
        )
        let fourth = try CLI.run(["run", "--json"], in: dir.path)
        #expect(fourth.status == 0, "\(fourth.stderr)")
        let c4 = summary(fourth)["counters"] as? [String: Int] ?? [:]
        #expect(c4["generate.document.reused"] ?? 0 == 0)
        #expect(c4["generate.document.hit"] == 13 && c4["generate.document.miss"] == 1)
        let rerendered = try KubeDocuments(yaml: dir.read("deployment/resources.yml")!, file: "resources.yml")
        #expect(rerendered.resources.count == docs.resources.count)
        #expect(dir.read("deployment/resources.yml")?.contains("emojivoto-web:v13@sha256:3333") == true)
        #expect(dir.read("verify/manifest.2.json") == dir.read("deployment/manifest.json"))
    }

    @Test(arguments: [
        (
            "+            requests:\n+              memory: 400Mi",
            "+            requests:\n+              memory: 300Mi",
            "Deployment/emoji: container emoji-svc: memory requests (300Mi) must equal limits (400Mi)"
        ),
        (
            "servicemesh-egress: emoji#127.137.0.1:8081#emoji-svc:8080",
            "servicemesh-egress: emoji#10.0.0.1:8081#emoji-svc:8080",
            "Deployment/web: annotation contrast.edgeless.systems/servicemesh-egress: entry 'emoji#10.0.0.1:8081#emoji-svc:8080': listen address 10.0.0.1:8081 is not in local CIDR 127.0.0.1/8"
        ),
        (
            "servicemesh-ingress: web#8080#false", "servicemesh-ingress: web#8080",
            "Deployment/web: annotation contrast.edgeless.systems/servicemesh-ingress: entry 'web#8080': invalid entry: expected <name>#<port>#<disable TLS: true|false>"
        ),
    ])
    func badInputsFailWithExitTwoAndKeepOutputs(find: String, replace: String, message: String) throws {
        let dir = try copy()
        #expect(try CLI.run(["run"], in: dir.path).status == 0)
        let rendered = dir.read("deployment/resources.yml")
        // Break the patched file through the memory diff or the mesh diff.
        for name in ["patches/2-memory.diff", "patches/3-service-mesh.diff"] {
            let text = dir.read(name)!
            if text.contains(find) {
                try dir.write(
                    name,
                    text.replacingOccurrences(of: find, with: replace, options: [], range: text.range(of: find))
                )
            }
        }
        let r = try CLI.run(["run"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("FAILED   generate"))
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(dir.read("deployment/resources.yml") == rendered)
    }
}

@Suite struct StandaloneGenerateTests {
    @Test func generatesInPlaceAndIsIdempotent() throws {
        let dir = try TempDir()
        let source = EmojivotoPipelineTests.source
        try FileManager.default.createDirectory(atPath: dir.path + "/deployment", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: "\(source)/mirror/coordinator.yml",
            toPath: "\(dir.path)/deployment/coordinator.yml"
        )
        try FileManager.default.copyItem(atPath: "\(source)/mirror/emojivoto-demo.yml", toPath: "\(dir.path)/demo.yml")
        for diff in ["1-runtime-class", "2-memory", "3-service-mesh"] {
            let r = try CLI.run(["patch", "--diff", "\(source)/patches/\(diff).diff", "demo.yml"], in: dir.path)
            #expect(r.status == 0, "\(r.stderr)")
        }
        try FileManager.default.moveItem(
            atPath: dir.path + "/demo.yml",
            toPath: dir.path + "/deployment/emojivoto-demo.yml"
        )
        let first = try CLI.run(["generate", "--reference-values", "metal-qemu-snp", "deployment"], in: dir.path)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("expected missing: ReferenceValues.snp[0].MinimumTCB.BootloaderVersion"))
        let once = dir.read("deployment/emojivoto-demo.yml")
        #expect(once?.contains(Initdata.annotation) == true)
        let manifest = try Manifest(json: Array((dir.read("manifest.json") ?? "").utf8))
        #expect(manifest.policies.count == 5)
        _ = try CLI.run(["generate", "--reference-values", "metal-qemu-snp", "deployment"], in: dir.path)
        #expect(dir.read("deployment/emojivoto-demo.yml") == once)
        #expect(try Manifest(json: Array((dir.read("manifest.json") ?? "").utf8)) == manifest)
    }
}
