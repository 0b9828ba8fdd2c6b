import Foundation
import Testing

/// genpolicy and a Kubernetes API server cannot run here, so these tests use stand-in executables that record
/// exactly what contrast-pipe hands them (argv and stdin) and answer as the real tools would.
@Suite struct StandInToolTests {
    @Test func kubectlTargetRunsServerSideApplyAndRestarts() throws {
        let dir = try TempDir()
        try dir.write("res.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
        try dir.write(
            "bin/kubectl",
            "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/../kubectl.argv\"\ncat >> \"$(dirname \"$0\")/../kubectl.stdin\"\n")
        chmod(dir.path + "/bin/kubectl", 0o755)
        try dir.write(
            "contrast.pipeline.yaml",
            """
            version: 1
            name: k
            stages:
              apply:
                apply:
                  inputs: [res.yml]
                  target: kubectl
                  kubectl: bin/kubectl
                  context: test-cluster
                  namespace: demo
                  restart: [deployment/web]
            """)
        let r = try CLI.run(["run"], in: dir.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            dir.read("kubectl.argv")
                == "--context test-cluster --namespace demo apply --server-side --field-manager=contrast-pipe -f -\n"
                + "--context test-cluster --namespace demo rollout restart deployment/web\n")
        #expect(dir.read("kubectl.stdin") == "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n")
        // A side effect: unchanged input, nothing re-applied.
        let again = try CLI.run(["run"], in: dir.path)
        #expect(again.stderr.contains("cached   apply"))
        let plan = try CLI.run(["plan", "--force", "apply"], in: dir.path)
        #expect(plan.stdout.contains("run        apply: forced (--force apply)"))
        #expect(dir.read("kubectl.argv")?.split(separator: "\n").count == 2)
    }

    @Test func genpolicyBackendIsRunPerWorkloadAndMemoized() throws {
        let dir = try TempDir()
        try dir.write(
            "app.yml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: a}
            spec:
              template:
                metadata:
                  annotations: {contrast.edgeless.systems/pod-role: coordinator}
                spec:
                  runtimeClassName: contrast-cc
                  containers:
                  - name: c
                    image: x
                    resources: {limits: {memory: 1Gi}, requests: {memory: 1Gi}}
            """)
        // Reads the pod YAML on stdin and prints base64(gzip(initdata)) as genpolicy --base64-out does.
        try dir.write(
            "bin/genpolicy",
            """
            #!/bin/sh
            echo "$@" >> "$(dirname "$0")/../genpolicy.argv"
            pod=$(cat | sha256sum | cut -c1-16)
            printf "version = '0.1.0'\\nalgorithm = 'sha256'\\n\\n[data]\\n'policy.rego' = 'package agent_policy # %s'\\n" "$pod" | gzip -n | base64 -w0
            """)
        chmod(dir.path + "/bin/genpolicy", 0o755)
        try dir.write("rules.rego", "package agent_policy\n")
        try dir.write("settings.json", "{}\n")
        try dir.write(
            "contrast.pipeline.yaml",
            """
            version: 1
            name: g
            stages:
              generate:
                generate:
                  inputs: [app.yml]
                  output: out.yml
                  policy: genpolicy
                  genpolicy: {binary: bin/genpolicy, rules: rules.rego, settings: settings.json}
            """)
        let r = try CLI.run(["run", "--json"], in: dir.path)
        #expect(r.status == 0, "\(r.stdout)")
        let argv = dir.read("genpolicy.argv") ?? ""
        #expect(argv.hasPrefix("--runtime-class-names=contrast-cc --rego-rules-path=\(dir.path)/rules.rego --json-settings-path=\(dir.path)/settings.json --yaml-file=/dev/stdin --base64-out"))
        #expect(r.stdout.contains("\"generate.policy.miss\":1"))
        #expect(dir.read("manifest.json")?.contains("\"Role\": \"coordinator\"") == true)
        // Another output path: a new action, but the workload's policy is memoized: genpolicy is not run again.
        try dir.write("contrast.pipeline.yaml", dir.read("contrast.pipeline.yaml")!.replacingOccurrences(of: "out.yml", with: "out2.yml"))
        let second = try CLI.run(["run", "--json"], in: dir.path)
        #expect(second.stdout.contains("\"generate.document.hit\":1"))
        #expect(dir.read("genpolicy.argv")?.split(separator: "\n").count == 1)
    }
}

@Suite struct GitOpsTests {
    func git(_ args: [String], in dir: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func writesPerObjectFilesPrunesAndCommits() throws {
        let dir = try TempDir()
        _ = try git(["init", "-q"], in: dir.path)
        _ = try git(["config", "user.email", "ci@example.com"], in: dir.path)
        _ = try git(["config", "user.name", "CI"], in: dir.path)
        try dir.write("res.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: prod}\n")
        try dir.write("gitops/unrelated.txt", "kept\n")
        try dir.write(
            "contrast.pipeline.yaml",
            "version: 1\nname: g\nstages:\n  apply:\n    apply: {inputs: [res.yml], directory: gitops, git-commit: true}\n")
        #expect(try CLI.run(["run"], in: dir.path).status == 0)
        #expect(dir.read("gitops/configmap-default-a.yaml") == "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
        #expect(dir.read("gitops/configmap-prod-b.yaml") != nil)
        #expect(try git(["log", "--format=%B", "-1"], in: dir.path).contains("added gitops/configmap-default-a.yaml"))
        // b disappears upstream: its file is pruned, the unrelated file stays, and the change is committed.
        try dir.write("res.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
        #expect(try CLI.run(["run"], in: dir.path).status == 0)
        #expect(dir.read("gitops/configmap-prod-b.yaml") == nil)
        #expect(dir.read("gitops/unrelated.txt") == "kept\n")
        #expect(try git(["log", "--format=%B", "-1"], in: dir.path).contains("removed gitops/configmap-prod-b.yaml"))
    }
}
