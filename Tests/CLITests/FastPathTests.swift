import Foundation
import Testing

/// The no-op fast path must only ever answer "nothing to do" when the full decision would.
@Suite struct FastPathTests {
    func summary(_ r: CLI.Result) -> [String: Any] {
        let last = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] ?? [:]
    }

    func fastPath(_ r: CLI.Result) -> Bool {
        (summary(r)["counters"] as? [String: Any])?["noop.fastpath"] as? Int == 1
    }

    @Test func usedOnlyWhenNothingChanged() throws {
        let dir = try TempDir()
        try dir.write("contrast.pipeline.yaml", simplePipeline)
        try dir.write("in.txt", "payload\n")
        let first = try CLI.run(["run", "--json"], in: dir.path)
        #expect(!fastPath(first))
        let second = try CLI.run(["run", "--json"], in: dir.path)
        #expect(fastPath(second))
        #expect(summary(second)["cached"] as? Int == 2)
        #expect(try CLI.run(["check"], in: dir.path).status == 0)

        // Same size, new content: the stat changes, the full path runs the stage.
        try dir.write("in.txt", "PAYLOAD\n")
        #expect(try CLI.run(["check"], in: dir.path).status == 1)
        let changed = try CLI.run(["run", "--json"], in: dir.path)
        #expect(!fastPath(changed))
        #expect(summary(changed)["ran"] as? Int == 2)
        #expect(dir.read("wrapped.txt") == "[\nPAYLOAD\n]\n")

        // A deleted output is restored, not skipped.
        try FileManager.default.removeItem(atPath: dir.path + "/out.txt")
        let restored = try CLI.run(["run", "--json"], in: dir.path)
        #expect(!fastPath(restored))
        #expect(summary(restored)["restored"] as? Int == 1)
        #expect(dir.read("out.txt") == "PAYLOAD\n")

        // An edited pipeline file disables the fast path even when the edit changes no key.
        #expect(fastPath(try CLI.run(["run", "--json"], in: dir.path)))
        try dir.write("contrast.pipeline.yaml", simplePipeline + "\n# a comment\n")
        let edited = try CLI.run(["run", "--json"], in: dir.path)
        #expect(!fastPath(edited))
        #expect(summary(edited)["cached"] as? Int == 2)
        #expect(fastPath(try CLI.run(["run", "--json"], in: dir.path)))

        // Targets and --force take the full path.
        #expect(!fastPath(try CLI.run(["run", "--json", "copy"], in: dir.path)))
        let forced = try CLI.run(["run", "--json", "--force", "wrap"], in: dir.path)
        #expect(summary(forced)["ran"] as? Int == 1)
    }

    @Test func failureClearsTheFingerprint() throws {
        let dir = try TempDir()
        try dir.write("contrast.pipeline.yaml", simplePipeline)
        try dir.write("in.txt", "payload\n")
        _ = try CLI.run(["run"], in: dir.path)
        // Break the second stage: it fails after writing half of wrapped.txt.
        try dir.write("contrast.pipeline.yaml", simplePipeline.replacingOccurrences(of: "echo ']'", with: "exit 4"))
        #expect(try CLI.run(["run"], in: dir.path).status == 1)
        try dir.write("contrast.pipeline.yaml", simplePipeline)
        // Back to the original file: its fingerprint was forgotten, so this is a full decision, which finds
        // the half-written output and restores it.
        let back = try CLI.run(["run", "--json"], in: dir.path)
        #expect(!fastPath(back))
        #expect(summary(back)["cached"] as? Int == 1)
        #expect(summary(back)["restored"] as? Int == 1)
        #expect(dir.read("wrapped.txt") == "[\npayload\n]\n")
    }
}
