import Foundation
import SQLite
import Testing

let simplePipeline = """
    version: 1
    name: cli
    stages:
      copy:
        command: {shell: "cp in.txt out.txt", inputs: [in.txt], outputs: [out.txt]}
      wrap:
        command: {shell: "(echo '['; cat out.txt; echo ']') > wrapped.txt", inputs: [out.txt], outputs: [wrapped.txt], from: copy}
    """

@Suite struct CommandLineTests {
    func setUp() throws -> TempDir {
        let dir = try TempDir()
        try dir.write("contrast.pipeline.yaml", simplePipeline)
        try dir.write("in.txt", "payload\n")
        return dir
    }

    @Test func runCheckAndSummary() throws {
        let dir = try setUp()
        let stale = try CLI.run(["check"], in: dir.path)
        #expect(stale.status == 1)
        #expect(stale.stdout == "stale: copy: never ran\nstale: wrap: upstream copy will run first (runs only if its outputs change)\n2 of 2 stages stale\n")
        let first = try CLI.run(["run"], in: dir.path)
        #expect(first.status == 0)
        #expect(first.stderr.contains("2 ran, 0 cached, 0 restored in "))
        #expect(dir.read("wrapped.txt") == "[\npayload\n]\n")
        let second = try CLI.run(["run"], in: dir.path)
        #expect(second.stderr.contains("0 ran, 2 cached, 0 restored in "))
        let check = try CLI.run(["check"], in: dir.path)
        #expect(check.status == 0)
        #expect(check.stdout == "up to date (2 stages)\n")
    }

    @Test func configErrorExitsTwoWithLocation() throws {
        let dir = try TempDir()
        try dir.write(
            "p.yaml", "version: 1\nname: x\nstages:\n  a:\n    command: {shell: \"true\"}\n    needs: [b]\n")
        let r = try CLI.run(["run", "-f", "p.yaml"], in: dir.path)
        #expect(r.status == 2)
        #expect(
            r.stderr == """
                p.yaml:6:13: error: stage 'a' needs 'b', which is not defined
                        needs: [b]
                                ^

                """)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/cache/store.sqlite"))
    }

    @Test func usageErrorsExitTwo() throws {
        let dir = try setUp()
        #expect(try CLI.run(["frobnicate"], in: dir.path).status == 2)
        #expect(try CLI.run(["run", "--bogus"], in: dir.path).status == 2)
        #expect(try CLI.run(["run", "-j", "zero"], in: dir.path).status == 2)
        let unknownTarget = try CLI.run(["run", "wrapp"], in: dir.path)
        #expect(unknownTarget.status == 2)
        #expect(unknownTarget.stderr == "contrast-pipe: no stage named 'wrapp' (did you mean 'wrap'?)\n")
        #expect(try CLI.run(["explain"], in: dir.path).status == 2)
        #expect(try CLI.run(["cache", "gc"], in: dir.path).status == 2)
    }

    @Test func helpForEveryCommand() throws {
        let dir = try setUp()
        for command in ["run", "plan", "check", "graph", "explain", "cache", "version"] {
            let r = try CLI.run([command, "--help"], in: dir.path)
            #expect(r.status == 0)
            #expect(r.stdout.hasPrefix("Usage: contrast-pipe \(command)"))
        }
        let main = try CLI.run(["--help"], in: dir.path)
        #expect(main.stdout.contains("Commands:"))
        #expect(try CLI.run(["version"], in: dir.path).stdout == "contrast-pipe 0.1.0\n")
    }

    @Test func failingStageExitsOneAndShowsLog() throws {
        let dir = try TempDir()
        try dir.write(
            "contrast.pipeline.yaml",
            "version: 1\nname: f\nstages:\n  bad:\n    command: {shell: \"echo boom >&2; exit 7\"}\n")
        let r = try CLI.run(["run"], in: dir.path)
        #expect(r.status == 1)
        #expect(r.stderr.contains("FAILED   bad ("))
        #expect(r.stderr.contains("): /bin/sh exited with status 7\n    | boom\n"))
        #expect(r.stderr.contains("0 ran, 0 cached, 0 restored, 1 failed in "))
    }

    @Test func jsonEventsAreOneObjectPerLine() throws {
        let dir = try setUp()
        let r = try CLI.run(["run", "--json"], in: dir.path)
        let events = r.stdout.split(separator: "\n").map {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
        }
        #expect(events.compactMap { $0["event"] as? String } == ["started", "finished", "started", "finished", "summary"])
        #expect(events[1]["stage"] as? String == "copy")
        #expect(events[1]["reason"] as? String == "never ran")
        #expect(events[1]["duration_ms"] is Int)
        #expect(events[4]["ran"] as? Int == 2)
        try FileManager.default.removeItem(atPath: dir.path + "/wrapped.txt")
        let again = try CLI.run(["run", "--json"], in: dir.path)
        #expect(again.stdout.contains("\"event\":\"restored\""))
        #expect(again.stdout.contains("\"outcome\":\"cached\""))
    }

    @Test func graphIsDOT() throws {
        let dir = try setUp()
        let r = try CLI.run(["graph"], in: dir.path)
        #expect(
            r.stdout == """
                digraph "cli" {
                    rankdir=LR;
                    node [shape=box];
                    "copy" [label="copy\\n(command)"];
                    "wrap" [label="wrap\\n(command)"];
                    "copy" -> "wrap";
                }

                """)
    }

    @Test func explainAndPlanSayWhy() throws {
        let dir = try setUp()
        _ = try CLI.run(["run"], in: dir.path)
        try dir.write("in.txt", "changed\n")
        let plan = try CLI.run(["plan"], in: dir.path)
        #expect(plan.stdout.hasPrefix("run        copy: input in.txt changed\npending    wrap: "))
        _ = try CLI.run(["run"], in: dir.path)
        let explain = try CLI.run(["explain", "wrap"], in: dir.path)
        #expect(explain.status == 0)
        #expect(explain.stdout.contains("now: up-to-date — up to date"))
        #expect(explain.stdout.contains("ran ("))
        #expect(explain.stdout.contains("— input out.txt changed; upstream copy changed"))
        #expect(explain.stdout.contains("— never ran"))
    }

    @Test func cacheStatsVerifyGC() throws {
        let dir = try setUp()
        _ = try CLI.run(["run"], in: dir.path)
        _ = try CLI.run(["run"], in: dir.path)
        let stats = try CLI.run(["cache", "stats"], in: dir.path)
        #expect(stats.stdout.contains("actions:  2\n"))
        #expect(stats.stdout.contains("last run hit rate: 100% (2 cached, 0 restored, 0 ran)"))
        let ok = try CLI.run(["cache", "verify"], in: dir.path)
        #expect(ok.status == 0)
        // Corrupt one blob behind the tool's back.
        do {
            let db = try Database(.path(dir.path + "/cache/store.sqlite"))
            try db.run("UPDATE blobs SET data = X'00' WHERE rowid = (SELECT MIN(rowid) FROM blobs)")
        }
        let bad = try CLI.run(["cache", "verify"], in: dir.path)
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("corrupt blob "))
        let gc = try CLI.run(["cache", "gc", "--max-size", "0"], in: dir.path)
        #expect(gc.status == 0)
        #expect(gc.stdout.contains("store now 0 B"))
        #expect(try CLI.run(["cache", "verify"], in: dir.path).status == 0)
        // Everything collected: outputs are still on disk and match, but the actions are gone, so it re-runs.
        let after = try CLI.run(["run"], in: dir.path)
        #expect(after.status == 0)
        #expect(after.stderr.contains("2 ran"))
    }

    @Test func restoreFromCorruptBlobFallsBackToRunning() throws {
        let dir = try setUp()
        _ = try CLI.run(["run"], in: dir.path)
        try FileManager.default.removeItem(atPath: dir.path + "/out.txt")
        do {
            let db = try Database(.path(dir.path + "/cache/store.sqlite"))
            try db.run("UPDATE blobs SET data = X'00' WHERE size = 8")
        }
        let r = try CLI.run(["run"], in: dir.path)
        #expect(r.status == 0)
        #expect(r.stderr.contains("ran      copy ("))
        #expect(r.stderr.contains("restore failed (cache blob "))
        #expect(dir.read("out.txt") == "payload\n")
    }
}
