import Foundation
import Synchronization

/// Runs external programs for stages, with output appended to the stage log.
public enum ProcessRunner {
    /// The outcome of a process.
    public struct Result: Sendable {
        /// Exit status (128 + signal when killed by a signal).
        public var status: Int32
        /// Captured standard output, when requested.
        public var standardOutput: [UInt8]
    }

    /// Runs `argv` in `directory`. Standard error (and standard output unless `captureOutput`) is appended to
    /// `logPath`. `stdin` is written to the process' standard input. The executable is looked up in PATH.
    public static func run(
        _ argv: [String],
        directory: String,
        environment: [String: String]? = nil,
        stdin: [UInt8]? = nil,
        logPath: String,
        captureOutput: Bool = false
    ) async throws -> Result {
        guard let program = argv.first else { throw StageFailure("empty argv") }
        guard let executable = resolve(program, in: directory, environment: environment) else {
            throw StageFailure("\(program): command not found")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw StageFailure("cannot open log file \(logPath)")
        }
        defer { try? log.close() }
        _ = try? log.seekToEnd()
        let outPipe = captureOutput ? Pipe() : nil
        process.standardOutput = outPipe ?? log
        process.standardError = log
        let inPipe = stdin.map { _ in Pipe() }
        process.standardInput = inPipe ?? FileHandle.nullDevice
        let captured = CapturedOutput()
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { p in
                let code = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
                continuation.resume(returning: code)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: StageFailure("cannot start \(argv[0]): \(error.localizedDescription)"))
                return
            }
            if let outPipe {
                let handle = outPipe.fileHandleForReading
                Thread.detachNewThread { captured.set(handle.readDataToEndOfFile()) }
            }
            if let inPipe, let stdin {
                let writer = inPipe.fileHandleForWriting
                Thread.detachNewThread {
                    try? writer.write(contentsOf: Data(stdin))
                    try? writer.close()
                }
            }
        }
        return Result(status: status, standardOutput: captureOutput ? captured.wait() : [])
    }
}

extension ProcessRunner {
    /// The executable for `program`: a path containing "/" is taken relative to `directory`; a bare name is
    /// searched in PATH (the stage environment's PATH when it sets one).
    static func resolve(_ program: String, in directory: String, environment: [String: String]?) -> String? {
        if program.contains("/") {
            let path = Paths.resolve(program, against: directory)
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        let searchPath = environment?["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in searchPath.split(separator: ":") {
            let candidate = Paths.resolve(program, against: dir.isEmpty ? directory : String(dir))
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Output collected on a reader thread, handed over once.
private final class CapturedOutput: Sendable {
    private let data = Mutex<Data?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func set(_ d: Data) {
        data.withLock { $0 = d }
        ready.signal()
    }

    func wait() -> [UInt8] {
        ready.wait()
        return [UInt8](data.withLock { $0 } ?? Data())
    }
}
