import Foundation

/// Runs the built `contrast-pipe` binary as a user would.
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary next to the test bundle (or `CONTRAST_PIPE_BIN`).
    static let binary: String = {
        if let env = ProcessInfo.processInfo.environment["CONTRAST_PIPE_BIN"] { return env }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
                "contrast-pipe"
            ).path,
            Bundle.main.bundleURL.appendingPathComponent("contrast-pipe").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/contrast-pipe").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[2]
    }()

    /// Starts the binary.
    static func start(_ args: [String], in directory: String, environment: [String: String] = [:]) throws -> (
        Process, Pipe, Pipe
    ) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, out, err)
    }

    static func finish(_ started: (Process, Pipe, Pipe)) -> Result {
        let (p, out, err) = started
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(
            status: p.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Freezes a process, then SIGKILLs it and every descendant (found through /proc), like a machine
    /// losing the whole process tree at one instant.
    static func killTree(_ pid: Int32) {
        kill(pid, SIGSTOP)
        var all: [Int32] = [pid]
        var frontier: [Int32] = [pid]
        while !frontier.isEmpty {
            var next: [Int32] = []
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            for e in entries {
                guard let child = Int32(e),
                    let stat = try? String(contentsOfFile: "/proc/\(e)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 2, let ppid = Int32(fields[1]), frontier.contains(ppid), !all.contains(child) {
                    kill(child, SIGSTOP)
                    next.append(child)
                }
            }
            all += next
            frontier = next
        }
        for p in all { kill(p, SIGKILL) }
    }

    static func run(_ args: [String], in directory: String) throws -> Result {
        finish(try start(args, in: directory))
    }
}

/// A temporary directory removed at the end of the test.
final class TempDir {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.path + "/cp-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func write(_ name: String, _ text: String) throws {
        let full = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func read(_ name: String) -> String? {
        try? String(contentsOfFile: path + "/" + name, encoding: .utf8)
    }
}
