import Engine
import Foundation
import Testing

/// A diamond: upper and lower read in.txt, join reads both; side reads other.txt. Every command appends to
/// a counter file (not a declared output) so the tests see real executions.
let diamond = """
    version: 1
    name: diamond
    stages:
      upper:
        command:
          shell: "echo x >> n.upper; tr a-z A-Z < in.txt > upper.txt"
          inputs: [in.txt]
          outputs: [upper.txt]
      lower:
        command:
          shell: "echo x >> n.lower; tr A-Z a-z < in.txt > lower.txt"
          inputs: [in.txt]
          outputs: [lower.txt]
      join:
        command:
          shell: "echo x >> n.join; cat upper.txt lower.txt > join.txt"
          inputs: [upper.txt, lower.txt]
          outputs: [join.txt]
          from: [upper, lower]
      side:
        command:
          shell: "echo x >> n.side; cp other.txt side.txt"
          inputs: other.txt
          outputs: side.txt
    """

@Suite struct IncrementalTests {
    func setUp() throws -> Workspace {
        let ws = try Workspace()
        try ws.write("contrast.pipeline.yaml", diamond)
        try ws.write("in.txt", "Hello\n")
        try ws.write("other.txt", "other\n")
        return ws
    }

    @Test func firstRunExecutesAllSecondRunNone() async throws {
        let ws = try setUp()
        let first = try await ws.run()
        #expect(first.stages(.ran) == ["join", "lower", "side", "upper"])
        #expect(ws.read("join.txt") == "HELLO\nhello\n")
        let second = try await ws.run()
        #expect(second.stages(.ran).isEmpty)
        #expect(second.stages(.cached) == ["join", "lower", "side", "upper"])
        #expect(["upper", "lower", "join", "side"].map { ws.count("n.\($0)") } == [1, 1, 1, 1])
        #expect(try ws.plan().allSatisfy { $0.action == .upToDate })
    }

    @Test func changingOneInputRerunsOnlyDownstream() async throws {
        let ws = try setUp()
        _ = try await ws.run()
        try ws.write("other.txt", "changed\n")
        let plan = try ws.plan()
        #expect(plan.first { $0.stage == "side" }?.reasons == ["input other.txt changed"])
        let report = try await ws.run()
        #expect(report.stages(.ran) == ["side"])
        #expect(["upper", "lower", "join", "side"].map { ws.count("n.\($0)") } == [1, 1, 1, 2])
        #expect(ws.read("side.txt") == "changed\n")
    }

    @Test func earlyCutoffStopsPropagation() async throws {
        let ws = try setUp()
        _ = try await ws.run()
        // Same letters, different case: upper.txt and lower.txt come out byte-identical.
        try ws.write("in.txt", "HELLO\n")
        let report = try await ws.run()
        #expect(report.stages(.ran) == ["lower", "upper"])
        #expect(report.stages(.cached) == ["join", "side"])
        #expect(["upper", "lower", "join", "side"].map { ws.count("n.\($0)") } == [2, 2, 1, 1])
    }

    @Test func outputChangeDoesPropagate() async throws {
        let ws = try setUp()
        _ = try await ws.run()
        try ws.write("in.txt", "World\n")
        let report = try await ws.run()
        #expect(report.stages(.ran) == ["join", "lower", "upper"])
        #expect(ws.read("join.txt") == "WORLD\nworld\n")
    }

    @Test func missingOrEditedOutputIsRestoredNotRerun() async throws {
        let ws = try setUp()
        _ = try await ws.run()
        try ws.remove("upper.txt")
        try ws.write("join.txt", "edited by hand\n")
        let plan = try ws.plan()
        #expect(plan.first { $0.stage == "upper" }?.reasons == ["output upper.txt missing → restore"])
        #expect(plan.first { $0.stage == "join" }?.reasons == ["output join.txt modified → restore"])
        let report = try await ws.run()
        #expect(report.stages(.restored) == ["join", "upper"])
        #expect(report.stages(.ran).isEmpty)
        #expect(ws.read("upper.txt") == "HELLO\n")
        #expect(ws.read("join.txt") == "HELLO\nhello\n")
        #expect(["upper", "lower", "join", "side"].map { ws.count("n.\($0)") } == [1, 1, 1, 1])
    }

    @Test func targetsRunOnlyWhatTheyNeed() async throws {
        let ws = try setUp()
        let report = try await ws.run { $0.targets = ["upper"] }
        #expect(report.outcomes.keys.sorted() == ["upper"])
        #expect(!ws.exists("lower.txt"))
        let join = try await ws.run { $0.targets = ["join"] }
        #expect(join.stages(.ran) == ["join", "lower"])
        #expect(join.stages(.cached) == ["upper"])
        #expect(!ws.exists("side.txt"))
    }

    @Test func forceRerunsOneStage() async throws {
        let ws = try setUp()
        _ = try await ws.run()
        let report = try await ws.run { $0.force = ["lower"] }
        #expect(report.stages(.ran) == ["lower"])
        #expect(report.reasons["lower"] == "forced (--force lower)")
        #expect(report.stages(.cached) == ["join", "side", "upper"])
    }

    @Test func configChangeIsAReason() async throws {
        let ws = try setUp()
        _ = try await ws.run()
        try ws.write(
            "contrast.pipeline.yaml",
            diamond.replacingOccurrences(of: "cp other.txt side.txt", with: "cat other.txt > side.txt"))
        let plan = try ws.plan()
        #expect(plan.first { $0.stage == "side" }?.reasons == ["config changed"])
        // Reformatting (flow style, key order) is not a change.
        try ws.write(
            "contrast.pipeline.yaml",
            diamond.replacingOccurrences(
                of: "      inputs: other.txt\n      outputs: side.txt",
                with: "      outputs: [side.txt]\n      inputs: [\"other.txt\"]"))
        let replan = try ws.plan()
        #expect(replan.first { $0.stage == "side" }?.action == .upToDate)
    }

    @Test func failureSkipsDownstreamAndKeepGoingContinuesOthers() async throws {
        let ws = try setUp()
        try ws.write("contrast.pipeline.yaml", diamond.replacingOccurrences(of: "tr A-Z a-z", with: "exit 3; tr A-Z a-z"))
        let stop = try await ws.run { $0.jobs = 1 }
        #expect(stop.stages(.failed) == ["lower"])
        #expect(stop.outcomes["join"] == .skipped)
        #expect(stop.reasons["join"] == "upstream lower failed")
        #expect(!stop.succeeded)
        let keep = try await ws.run {
            $0.keepGoing = true
            $0.jobs = 1
        }
        #expect(keep.stages(.failed) == ["lower"])
        #expect(keep.outcomes["side"] != .skipped)
        #expect(keep.outcomes["join"] == .skipped)
        #expect(ws.exists("side.txt"))
    }

    @Test func undeclaredOutputFailsTheStage() async throws {
        let ws = try Workspace()
        try ws.write(
            "contrast.pipeline.yaml",
            "version: 1\nname: p\nstages:\n  a:\n    command: {shell: \"true\", outputs: [never.txt]}\n")
        let report = try await ws.run()
        #expect(report.reasons["a"] == "declared output never.txt was not produced")
    }

    @Test func unknownProgramFailsWithAClearMessage() async throws {
        let ws = try Workspace()
        try ws.write(
            "contrast.pipeline.yaml",
            "version: 1\nname: p\nstages:\n  a:\n    command: {argv: [no-such-program-xyz, --flag]}\n")
        let report = try await ws.run()
        #expect(report.reasons["a"] == "no-such-program-xyz: command not found")
    }

    @Test func missingInputBlocksTheStage() async throws {
        let ws = try Workspace()
        try ws.write(
            "contrast.pipeline.yaml",
            "version: 1\nname: p\nstages:\n  a:\n    command: {shell: \"true\", inputs: [absent.txt]}\n")
        let report = try await ws.run()
        #expect(report.outcomes["a"] == .failed)
        #expect(report.reasons["a"] == "input absent.txt does not exist")
    }

    @Test func sideEffectStageRunsOnlyWhenItsKeyChanges() async throws {
        let ws = try Workspace()
        try ws.write(
            "contrast.pipeline.yaml",
            """
            version: 1
            name: p
            stages:
              render:
                command: {shell: "cp src.txt out.txt", inputs: [src.txt], outputs: [out.txt]}
              apply:
                command: {shell: "echo applied >> cluster.log", from: render, side-effect: test-cluster}
            """)
        try ws.write("src.txt", "v1\n")
        _ = try await ws.run()
        #expect(ws.count("cluster.log") == 1)
        let again = try await ws.run()
        #expect(again.reasons["apply"] == "already applied to test-cluster")
        #expect(ws.count("cluster.log") == 1)
        try ws.write("src.txt", "v2\n")
        _ = try await ws.run()
        #expect(ws.count("cluster.log") == 2)
        // Back to v1: the action is cached, but the cluster last saw v2, so it must be applied again.
        try ws.write("src.txt", "v1\n")
        _ = try await ws.run()
        #expect(ws.count("cluster.log") == 3)
        _ = try await ws.run { $0.force = ["apply"] }
        #expect(ws.count("cluster.log") == 4)
    }

    @Test func explainHistoryRecordsWhyStagesRan() async throws {
        let ws = try setUp()
        _ = try await ws.run()
        try ws.write("in.txt", "Other\n")
        _ = try await ws.run()
        let store = try ws.store()
        let history = try store.history(pipeline: "diamond", stage: "join")
        #expect(history.map(\.outcome) == ["ran", "ran"])
        #expect(history[0].reason == "input lower.txt changed; input upper.txt changed; upstream lower changed; upstream upper changed")
        #expect(history[1].reason == "never ran")
    }
}
