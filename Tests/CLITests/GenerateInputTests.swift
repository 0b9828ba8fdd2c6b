import Foundation
import Testing

/// Input checks of the generate stage that need a whole run.
@Suite struct GenerateInputEncodingTests {
    @Test func aDocumentThatIsNotUTF8FailsWithItsLine() throws {
        let dir = try TempDir()
        let good = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
        var bytes = Array((good + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {x: \"").utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("\"}\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/app.yml"))
        try dir.write(
            "contrast.pipeline.yaml",
            "version: 1\nname: g\nstages:\n  generate:\n    generate: {inputs: [app.yml], output: out.yml, manifest: manifest.json}\n"
        )
        let r = try CLI.run(["run"], in: dir.path)
        #expect(r.status == 2)
        #expect(r.stderr.contains("app.yml:5: the document is not UTF-8 text"), "\(r.stderr)")
        #expect(dir.read("out.yml") == nil)
    }
}
