import Engine
import Foundation
import SQLite
import Testing
import YAML

/// Writes a large output in chunks: one 4 KiB block per input line, a chunk boundary after every 16 blocks.
struct BlocksStage: Stage {
    static let typeName = "blocks"
    static let version = 1
    static let summary = "test stage"
    static let schema = ConfigSchema([
        .init("input", .string, required: true), .init("output", .string, required: true),
    ])

    let input: String
    let output: String
    var inputs: [String] { [input] }
    var outputs: [String] { [output] }

    init(config: StageConfig) throws(Diagnostic) {
        input = config.string("input") ?? ""
        output = config.string("output") ?? ""
    }

    func run(_ context: StageContext) async throws -> StageResult {
        let lines = try String(contentsOfFile: context.path(input), encoding: .utf8).split(separator: "\n")
        var out: [UInt8] = []
        var boundaries: [Int] = []
        for (i, line) in lines.enumerated() {
            out += Array(repeating: UInt8(ascii: "a") &+ UInt8(i % 26), count: 4095) + Array(line.utf8.prefix(1))
            if i % 16 == 15 { boundaries.append(out.count) }
        }
        if boundaries.last != out.count { boundaries.append(out.count) }
        try context.writeOutput(out, to: output, chunkBoundaries: boundaries)
        return StageResult()
    }
}

@Suite struct ChunkedBlobTests {
    func setUp() throws -> Workspace {
        let ws = try Workspace()
        ws.registry.register(BlocksStage.self)
        try ws.write(
            "contrast.pipeline.yaml",
            "version: 1\nname: chunks\ndefaults: {cache: cache}\nstages:\n  b:\n    blocks: {input: in.txt, output: out.bin}\n"
        )
        return ws
    }

    @Test func largeOutputsAreStoredAsSharedChunksAndRestoredWhole() async throws {
        let ws = try setUp()
        let lines = (0..<160).map { "line \($0)" }
        try ws.write("in.txt", lines.joined(separator: "\n") + "\n")
        _ = try await ws.run()
        let first = try #require(FileManager.default.contents(atPath: ws.root + "/out.bin"))
        let before = try ws.store().stats()
        #expect(before.blobs == 10 + 1)  // 10 chunks and the chunk list (an empty log is not stored)
        // One line changed: one new chunk and one new list, nothing else stored.
        var edited = lines
        edited[37] = "Xine 37"
        try ws.write("in.txt", edited.joined(separator: "\n") + "\n")
        _ = try await ws.run()
        let after = try ws.store().stats()
        #expect(after.blobs == before.blobs + 2)
        #expect(after.bytes - before.bytes < 80_000)
        // A deleted output is restored from its chunks, byte for byte; the store verifies.
        let second = try #require(FileManager.default.contents(atPath: ws.root + "/out.bin"))
        try ws.remove("out.bin")
        let restore = try await ws.run()
        #expect(restore.counters["stage.executions"] == nil)
        #expect(FileManager.default.contents(atPath: ws.root + "/out.bin") == second)
        #expect(second != first && second.count == first.count)
        #expect(try ws.store().verify().ok)
    }

    @Test func aCorruptChunkIsDetectedAndTheStageRunsAgain() async throws {
        let ws = try setUp()
        try ws.write("in.txt", (0..<64).map { "l\($0)" }.joined(separator: "\n") + "\n")
        _ = try await ws.run()
        let good = try #require(FileManager.default.contents(atPath: ws.root + "/out.bin"))
        // Flip one byte inside one chunk directly in the database.
        let db = try Database(.path(ws.root + "/cache/store.sqlite"))
        try db.run(
            "UPDATE blobs SET data = zeroblob(4096) WHERE size = 65536 AND digest IN (SELECT digest FROM blobs WHERE size = 65536 LIMIT 1)"
        )
        #expect(db.changes == 1)
        let report = try ws.store().verify()
        #expect(report.corrupt.count == 2)  // the chunk itself and the file assembled from it
        try ws.remove("out.bin")
        let rerun = try await ws.run()
        #expect(rerun.counters["stage.executions"] == 1)
        #expect(FileManager.default.contents(atPath: ws.root + "/out.bin") == good)
    }
}
