import Foundation
import Testing

let deployment = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
          - name: web
            image: nginx

    """

let runtimeDiff = """
    @@ -6,4 +6,5 @@ spec:
       template:
         spec:
    +      runtimeClassName: contrast-cc
           containers:
           - name: web

    """

@Suite struct PatchCommandTests {
    @Test func standalonePatchRewritesInPlaceOrToStdout() throws {
        let dir = try TempDir()
        try dir.write("web.yaml", deployment)
        try dir.write("rc.diff", runtimeDiff)
        let stdout = try CLI.run(["patch", "--diff", "rc.diff", "-o", "-", "web.yaml"], in: dir.path)
        #expect(stdout.status == 0)
        #expect(stdout.stdout.contains("    spec:\n      runtimeClassName: contrast-cc\n      containers:\n"))
        #expect(dir.read("web.yaml") == deployment)
        let inPlace = try CLI.run(["patch", "--diff", "rc.diff", "web.yaml"], in: dir.path)
        #expect(inPlace.status == 0)
        #expect(dir.read("web.yaml") == stdout.stdout)
        // Applying again fails (the context no longer matches) and leaves the file alone.
        let again = try CLI.run(["patch", "--diff", "rc.diff", "web.yaml"], in: dir.path)
        #expect(again.status == 2)
        #expect(
            again.stderr
                == "contrast-pipe: rc.diff: hunk @@ -6,4 +6,5 @@ does not apply: line 8 should be '      containers:', found '      runtimeClassName: contrast-cc'\n"
        )
        #expect(dir.read("web.yaml") == stdout.stdout)
    }

    @Test func patchStageFailsWithExitTwoAndKeepsOutput() throws {
        let dir = try TempDir()
        try dir.write("in/web.yaml", deployment)
        try dir.write("rc.diff", runtimeDiff)
        try dir.write(
            "contrast.pipeline.yaml",
            """
            version: 1
            name: p
            stages:
              patch:
                patch:
                  input: in/web.yaml
                  output: out/web.yaml
                  diffs: [rc.diff]
                  transforms:
                    - memory: 400Mi
                    - annotations: {contrast.edgeless.systems/servicemesh-ingress: ""}
            """)
        let ok = try CLI.run(["run"], in: dir.path)
        #expect(ok.status == 0)
        let rendered = dir.read("out/web.yaml")
        #expect(
            rendered == """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: web
                spec:
                  template:
                    metadata:
                      annotations:
                        contrast.edgeless.systems/servicemesh-ingress: ""
                    spec:
                      runtimeClassName: contrast-cc
                      containers:
                      - name: web
                        image: nginx
                        resources:
                          limits:
                            memory: 400Mi
                          requests:
                            memory: 400Mi

                """)
        // Upstream YAML moves: the diff no longer applies → exit 2, output untouched.
        try dir.write("in/web.yaml", deployment.replacingOccurrences(of: "    spec:\n      containers", with: "    spec:\n      hostNetwork: false\n      containers"))
        let bad = try CLI.run(["run"], in: dir.path)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("FAILED   patch"))
        #expect(bad.stderr.contains("rc.diff: hunk @@ -6,4 +6,5 @@ does not apply: line 8 should be '      containers:', found '      hostNetwork: false'"))
        #expect(dir.read("out/web.yaml") == rendered)
    }
}
