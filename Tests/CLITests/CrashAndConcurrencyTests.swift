import Foundation
import Testing

/// A pipeline with enough stages and work that a kill lands at every phase: hashing, executing, storing
/// outputs, recording actions, restoring.
func crashPipeline(stages: Int) -> String {
    var text = "version: 1\nname: crash\nstages:\n"
    for i in 0..<stages {
        let input = i == 0 ? "seed.txt" : "s\(i - 1).txt"
        text += """
              s\(i):
                command:
                  shell: "sleep 0.0\(i % 4); (cat \(input); seq 1 \(200 + i * 50); cat seed.txt) | sha256sum > s\(i).txt; head -c \(2000 + 300 * i) /dev/zero | tr '\\\\0' a >> s\(i).txt"
                  inputs: [\(input), seed.txt]
                  outputs: [s\(i).txt]
                  from: \(i == 0 ? "[]" : "[s\(i - 1)]")

            """
        text += "\n"
    }
    // A second branch so that two stages run in parallel.
    text += """
          side:
            command: {shell: "seq 1 5000 > side.txt; cat seed.txt >> side.txt", inputs: [seed.txt], outputs: [side.txt]}

        """
    return text
}

@Suite(.serialized) struct CrashAndConcurrencyTests {
    func outputs(_ dir: TempDir, stages: Int) -> [String?] {
        (0..<stages).map { dir.read("s\($0).txt") } + [dir.read("side.txt")]
    }

    @Test func killNineAtRandomPointsNeverCorruptsTheStore() async throws {
        let stages = 8
        let trials = 30
        let reference = try TempDir()
        let victim = try TempDir()
        var rng = SystemRandomNumberGenerator()
        var killedMidRun = 0
        for trial in 0..<trials {
            // Each trial changes the seed half of the time, so there is real work to interrupt.
            let seed = "seed \(trial / 2)\n"
            for dir in [reference, victim] {
                try dir.write("contrast.pipeline.yaml", crashPipeline(stages: stages))
                try dir.write("seed.txt", seed)
            }
            if trial % 5 == 4 {
                // Also interrupt restores: remove outputs so the run has to re-materialize them.
                for i in 0..<stages where i % 2 == 0 { try? FileManager.default.removeItem(atPath: victim.path + "/s\(i).txt") }
            }
            let expected = try CLI.run(["run", "-j", "2"], in: reference.path)
            #expect(expected.status == 0)
            let started = try CLI.start(["run", "-j", "2"], in: victim.path)
            try await Task.sleep(nanoseconds: UInt64.random(in: 0...250_000_000, using: &rng))
            if started.0.isRunning { killedMidRun += 1 }
            CLI.killTree(started.0.processIdentifier)
            _ = CLI.finish(started)
            let verify = try CLI.run(["cache", "verify"], in: victim.path)
            #expect(verify.status == 0, "trial \(trial): \(verify.stdout)")
            let resumed = try CLI.run(["run", "-j", "2"], in: victim.path)
            #expect(resumed.status == 0, "trial \(trial): \(resumed.stderr)")
            #expect(outputs(victim, stages: stages) == outputs(reference, stages: stages), "trial \(trial)")
            let check = try CLI.run(["check"], in: victim.path)
            #expect(check.status == 0, "trial \(trial): \(check.stdout)")
        }
        // The sleep range is tuned so that most kills land mid-run; a test that never interrupts proves nothing.
        #expect(killedMidRun >= trials / 3)
    }

    @Test func secondRunWaitsForTheLockOrFailsWithNoWait() async throws {
        let dir = try TempDir()
        try dir.write(
            "contrast.pipeline.yaml",
            """
            version: 1
            name: lock
            stages:
              slow:
                command: {shell: "touch started.flag; sleep 1.5; echo done > slow.txt", outputs: [slow.txt]}
            """)
        let first = try CLI.start(["run"], in: dir.path)
        // Wait until the first run is inside its stage (so it certainly holds the lock).
        var waited = 0
        while !FileManager.default.fileExists(atPath: dir.path + "/started.flag") && waited < 200 {
            try await Task.sleep(nanoseconds: 20_000_000)
            waited += 1
        }
        let busy = try CLI.run(["run", "--no-wait"], in: dir.path)
        #expect(busy.status == 1)
        #expect(busy.stderr.contains("another contrast-pipe run holds the cache lock"))
        let second = try CLI.run(["run"], in: dir.path)
        let firstResult = CLI.finish(first)
        #expect(firstResult.status == 0)
        #expect(firstResult.stderr.contains("1 ran"))
        #expect(second.status == 0)
        #expect(second.stderr.contains("waiting for another contrast-pipe run to release the cache lock"))
        #expect(second.stderr.contains("0 ran, 1 cached"))
        #expect(try CLI.run(["cache", "verify"], in: dir.path).status == 0)
    }
}
