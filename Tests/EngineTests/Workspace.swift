import Engine
import Foundation
import Stages

/// A throwaway workspace directory with a pipeline file, a store and helpers to run the engine in-process.
final class Workspace {
    let root: String
    var registry = BuiltinStages.registry

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/cp-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    func write(_ path: String, _ text: String) throws {
        let full = root + "/" + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func read(_ path: String) -> String? {
        try? String(contentsOfFile: root + "/" + path, encoding: .utf8)
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: root + "/" + path) }

    func remove(_ path: String) throws { try FileManager.default.removeItem(atPath: root + "/" + path) }

    /// Lines in a counter file that commands append to, i.e. how often they really executed.
    func count(_ path: String) -> Int {
        (read(path) ?? "").split(separator: "\n").count
    }

    func pipeline() throws -> Pipeline {
        try PipelineLoader(registry: registry).load(
            text: read("contrast.pipeline.yaml") ?? "", file: "contrast.pipeline.yaml", directory: root)
    }

    func store() throws -> Store {
        try FileManager.default.createDirectory(atPath: root + "/cache", withIntermediateDirectories: true)
        return try Store(path: root + "/cache/store.sqlite")
    }

    func run(_ configure: (inout RunOptions) -> Void = { _ in }) async throws -> RunReport {
        var options = RunOptions()
        options.jobs = 2
        configure(&options)
        let runner = try Runner(pipeline: try pipeline(), store: try store(), options: options, reporter: SilentReporter())
        return try await runner.run()
    }

    func plan(_ configure: (inout RunOptions) -> Void = { _ in }) throws -> [Decision] {
        var options = RunOptions()
        configure(&options)
        let runner = try Runner(pipeline: try pipeline(), store: try store(), options: options, reporter: SilentReporter())
        return try runner.plan()
    }
}

extension RunReport {
    /// Stages with the given outcome, sorted.
    func stages(_ outcome: StageOutcome) -> [String] {
        outcomes.filter { $0.value == outcome }.map(\.key).sorted()
    }
}
