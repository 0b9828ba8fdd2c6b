import Engine
import Foundation
import Testing
import YAML

/// A stage that memoizes one sub-result per line of its input (as `generate` will per workload) and writes
/// the concatenation.
struct LinesStage: Stage {
    static let typeName = "lines"
    static let version = 1
    static let summary = "test stage"
    static let schema = ConfigSchema([.init("input", .string, required: true), .init("output", .string, required: true)])

    let input: String
    let output: String
    var inputs: [String] { [input] }
    var outputs: [String] { [output] }

    init(config: StageConfig) throws(Diagnostic) {
        input = config.string("input") ?? ""
        output = config.string("output") ?? ""
    }

    func run(_ context: StageContext) async throws -> StageResult {
        let text = try String(contentsOfFile: context.path(input), encoding: .utf8)
        var out = ""
        for line in text.split(separator: "\n") {
            let bytes = try await context.memoized(namespace: "lines.upper", key: [String(line)]) {
                Array(line.uppercased().utf8)
            }
            out += String(decoding: bytes, as: UTF8.self) + "\n"
        }
        try FileSystem.writeAtomically(Array(out.utf8), to: context.path(output))
        return StageResult()
    }
}

@Suite struct MemoTests {
    @Test func subResultsAreReusedAcrossRuns() async throws {
        let ws = try Workspace()
        ws.registry.register(LinesStage.self)
        try ws.write(
            "contrast.pipeline.yaml",
            "version: 1\nname: memo\nstages:\n  up:\n    lines: {input: in.txt, output: out.txt}\n")
        try ws.write("in.txt", "a\nb\nc\n")
        let first = try await ws.run()
        #expect(first.counters["lines.upper.miss"] == 3)
        #expect(first.counters["lines.upper.hit"] == nil)
        #expect(ws.read("out.txt") == "A\nB\nC\n")
        // One line edited: one computation, two hits.
        try ws.write("in.txt", "a\nbee\nc\n")
        let second = try await ws.run()
        #expect(second.counters["lines.upper.miss"] == 1)
        #expect(second.counters["lines.upper.hit"] == 2)
        #expect(ws.read("out.txt") == "A\nBEE\nC\n")
    }

    @Test func bumpingTheVersionInvalidatesCachedActions() throws {
        var a = KeyFields(type: "t", version: 1, tool: "x", config: "c", inputs: ["i": "d"], upstream: [:])
        let key1 = a.actionKey
        a.version = 2
        #expect(a.actionKey != key1)
        let old = KeyFields(type: "t", version: 1, tool: "x", config: "c", inputs: ["i": "d"], upstream: [:])
        #expect(a.changes(since: old) == ["t implementation version changed (1 → 2)"])
    }

    @Test func actionKeyFieldsAreLengthPrefixed() {
        // "ab" + "c" and "a" + "bc" must not collide.
        var x = ActionKeyBuilder(domain: "d")
        x.add("ab")
        x.add("c")
        var y = ActionKeyBuilder(domain: "d")
        y.add("a")
        y.add("bc")
        #expect(x.finish() != y.finish())
    }
}
