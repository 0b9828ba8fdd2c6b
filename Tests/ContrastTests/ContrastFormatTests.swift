import Contrast
import Crypto
import Kube
import Testing
import YAML

@Suite struct ServiceMeshGrammarTests {
    @Test(arguments: [
        [ServiceMesh.egress: "emoji#127.137.0.1:8081#emoji-svc:8080##voting#127.137.0.2:8081#voting-svc:8080"],
        [ServiceMesh.ingress: ""], [ServiceMesh.ingress: "DISABLED"], [ServiceMesh.ingress: "web#8080#false##admin#9000#true"],
        [ServiceMesh.adminPort: "9901"], [ServiceMesh.egress: "db#127.0.0.5:5432#[2001:db8::1]:5432"],
    ])
    func validAnnotations(_ annotations: [String: String]) throws {
        try ServiceMesh.validate(annotations, workload: "Deployment/w")
    }

    @Test(arguments: [
        (
            [ServiceMesh.egress: "a#127.0.0.1:80"],
            "Deployment/w: annotation contrast.edgeless.systems/servicemesh-egress: entry 'a#127.0.0.1:80': invalid entry: expected <name>#<listen IP>:<port>#<host>:<port>"
        ),
        (
            [ServiceMesh.egress: "a#localhost:80#b:80"],
            "Deployment/w: annotation contrast.edgeless.systems/servicemesh-egress: entry 'a#localhost:80#b:80': invalid listen address 'localhost:80'"
        ),
        (
            [ServiceMesh.egress: "a#127.0.0.1:80#b:http"],
            "Deployment/w: annotation contrast.edgeless.systems/servicemesh-egress: entry 'a#127.0.0.1:80#b:http': invalid remote port 'http'"
        ),
        (
            [ServiceMesh.ingress: "web#8080#maybe"],
            "Deployment/w: annotation contrast.edgeless.systems/servicemesh-ingress: entry 'web#8080#maybe': invalid disable TLS 'maybe'"
        ),
        (
            [ServiceMesh.adminPort: "ninety"],
            "Deployment/w: annotation contrast.edgeless.systems/servicemesh-admin-interface-port: 'ninety' is not a port number"
        ),
    ])
    func invalidAnnotations(_ annotations: [String: String], _ message: String) {
        #expect(throws: ContrastError(message)) { try ServiceMesh.validate(annotations, workload: "Deployment/w") }
    }
}

@Suite struct InitdataTests {
    @Test func tomlHashAndAnnotationRoundTrip() throws {
        let doc = Initdata(data: ["policy.rego": "package agent_policy\n\ndefault x := true\n", "contrast.insecure-debug": "true"])
        let text = String(decoding: doc.toml, as: UTF8.self)
        #expect(
            text == """
                version = '0.1.0'
                algorithm = 'sha256'

                [data]
                'contrast.insecure-debug' = 'true'
                'policy.rego' = '''
                package agent_policy

                default x := true
                '''

                """)
        #expect(doc.digest == SHA256.hash(doc.toml).hex)
        let decoded = try Initdata.decode(annotation: try doc.annotationValue())
        #expect(decoded == doc)
        #expect(try decoded.dataEntries() == ["policy.rego": "package agent_policy\n\ndefault x := true\n", "contrast.insecure-debug": "true"])
    }
}

@Suite struct WorkloadPreparerTests {
    let yaml = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          template:
            metadata:
              annotations: {contrast.edgeless.systems/servicemesh-ingress: "web#8080#false"}
            spec:
              runtimeClassName: contrast-cc
              containers:
              - name: web
                image: w
                resources: {limits: {memory: 1Gi}, requests: {memory: 1024Mi}}
        """

    @Test func injectsAndIsIdempotent() throws {
        let preparer = WorkloadPreparer(platform: "metal-qemu-snp")
        var r = try KubeDocuments(yaml: yaml, file: "w.yml").resources[0]
        try preparer.prepare(&r)
        let once = r
        try preparer.prepare(&r)
        #expect(r == once)
        let spec = try #require(r.podSpec)
        #expect(spec["initContainers"]?.items?.map { $0["name"]?.scalar ?? "" } == ["contrast-initializer", "contrast-service-mesh"])
        #expect(spec["initContainers"]?.items?[0]["env"]?.items?[0]["value"]?.scalar == "coordinator-ready.default")
        #expect(spec["runtimeClassName"]?.scalar == preparer.runtimeHandler)
        #expect(preparer.runtimeHandler.hasPrefix("contrast-cc-metal-qemu-snp-") && preparer.runtimeHandler.count == 35)
        for c in (spec["initContainers"]?.items ?? []) + (spec["containers"]?.items ?? []) {
            #expect(c["volumeMounts"]?.items?.filter { $0["name"]?.scalar == "contrast-secrets" }.count == 1)
        }
        #expect(spec["volumes"]?.items?.count == 1)
        #expect(WorkloadPreparer.secretID(r) == "apps/v1/Deployment/shop/web")
    }

    @Test func memoryMustMatch() throws {
        var r = try KubeDocuments(yaml: yaml.replacingOccurrences(of: "requests: {memory: 1024Mi}", with: "requests: {memory: 512Mi}"), file: "w.yml")
            .resources[0]
        #expect(throws: ContrastError("Deployment/shop/web: container web: memory requests (512Mi) must equal limits (1Gi)")) {
            try WorkloadPreparer(platform: "metal-qemu-snp").prepare(&r)
        }
    }

    @Test func coordinatorGetsNoInjection() throws {
        var r = try KubeDocuments(
            yaml: yaml.replacingOccurrences(of: "contrast.edgeless.systems/servicemesh-ingress: \"web#8080#false\"", with: "contrast.edgeless.systems/pod-role: coordinator"),
            file: "c.yml"
        ).resources[0]
        try WorkloadPreparer(platform: "metal-qemu-snp").prepare(&r)
        #expect(r.podSpec?["initContainers"] == nil)
    }
}

@Suite struct ManifestTests {
    @Test func writesGoFormatAndValidates() throws {
        var m = Manifest()
        m.policies[String(repeating: "a", count: 64)] = .init(sans: ["coordinator", "*"], workloadSecretID: "apps/v1/StatefulSet/default/coordinator", role: "coordinator")
        m.snp = [ReferenceValues.simulatedSNP(minimumTCB: ["BootloaderVersion": 3, "TEEVersion": 0, "SNPVersion": 8, "MicrocodeVersion": 115])]
        m.workloadOwnerKeyDigests = [String(repeating: "b", count: 64)]
        let text = m.json()
        #expect(text.hasPrefix("{\n  \"Policies\": {\n    \"aaaa"))
        #expect(text.contains("\"MinimumTCB\": {\n          \"BootloaderVersion\": 3,\n          \"TEEVersion\": 0,"))
        #expect(text.contains("\"SeedshareOwnerPubKeys\": null\n}\n"))
        let back = try Manifest(json: Array(text.utf8))
        #expect(back == m)
        #expect(back.validate() == ManifestVerdict())
    }

    @Test func reportsErrorsAndExpectedMissing() {
        var m = Manifest()
        m.policies["xyz"] = .init(sans: [], workloadSecretID: "", role: "admin")
        m.snp = [ReferenceValues.simulatedSNP(minimumTCB: nil)]
        let v = m.validate()
        #expect(v.errors == [
            "Policies[xyz]: policy hash must be 64 hex characters", "Policies[xyz].Role: invalid role 'admin'",
            "Policies: missing a policy with role 'coordinator' (add the Coordinator's resources)",
        ])
        #expect(v.expectedMissing.first == "ReferenceValues.snp[0].MinimumTCB.BootloaderVersion: field cannot be empty")
    }

    @Test func snphostOutputPlatformBlock() throws {
        let text = "Reported TCB: TCB Version:\n  Microcode: 1\n  SNP: 1\n  TEE: 1\n  Boot Loader: 1\nPlatform TCB: TCB Version:\n  Microcode:   115\n  SNP:         8\n  TEE:         0\n  Boot Loader: 3\n  FMC:         None\n"
        #expect(try ReferenceValues.parseSNPHostTCB(text) == ["MicrocodeVersion": 115, "SNPVersion": 8, "TEEVersion": 0, "BootloaderVersion": 3])
    }
}
