import Engine
import Foundation
import Synchronization

/// Writes to stderr/stdout without buffering surprises.
enum Output {
    static func out(_ s: String) {
        FileHandle.standardOutput.write(Data((s + "\n").utf8))
    }

    static func err(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    static func seconds(_ ms: Int) -> String {
        ms < 1000 ? "\(ms)ms" : String(format: "%.2fs", Double(ms) / 1000)
    }

    /// The last `n` lines of a log, indented, for failure reports.
    static func tail(_ log: String?, lines n: Int = 20) -> String? {
        guard let log, !log.isEmpty else { return nil }
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false).dropLast(log.hasSuffix("\n") ? 1 : 0)
        return lines.suffix(n).map { "    | \($0)" }.joined(separator: "\n")
    }
}

/// Plain lines, one per finished stage (no TTY, or NO_COLOR).
struct PlainReporter: RunReporter {
    var quiet: Bool

    func report(_ event: RunEvent) {
        switch event {
        case .started: break
        case .note(let s): Output.err(s)
        case .finished(let stage, let outcome, let reason, let ms, let log):
            if quiet && outcome != .failed { return }
            let label: String =
                switch outcome {
                case .ran: "ran     "
                case .cached: "cached  "
                case .restored: "restored"
                case .failed: "FAILED  "
                case .skipped: "skipped "
                }
            let time = outcome == .ran || outcome == .failed || outcome == .restored ? " (\(Output.seconds(ms)))" : ""
            Output.err("\(label) \(stage)\(time): \(reason)")
            if outcome == .failed, let tail = Output.tail(log) { Output.err(tail) }
        }
    }
}

/// One JSON object per line on stdout, keys sorted.
struct JSONReporter: RunReporter {
    func report(_ event: RunEvent) {
        var object: [String: Any] = [:]
        switch event {
        case .started(let stage, let reason):
            object = ["event": "started", "stage": stage, "reason": reason]
        case .finished(let stage, let outcome, let reason, let ms, let log):
            object = [
                "event": outcome == .ran ? "finished" : outcome.rawValue, "outcome": outcome.rawValue, "stage": stage,
                "reason": reason, "duration_ms": ms,
            ]
            if outcome == .failed, let log { object["log"] = log }
        case .note(let s):
            object = ["event": "note", "message": s]
        }
        JSONReporter.emit(object)
    }

    static func emit(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        Output.out(String(decoding: data, as: UTF8.self))
    }
}

/// A live display on a terminal: finished stages scroll up as lines, running stages stay at the bottom with
/// their elapsed time, redrawn a few times a second.
final class LiveReporter: RunReporter, Sendable {
    private struct State {
        var running: [(String, UInt64)] = []
        var drawn = 0
        var done = 0
    }

    private let state = Mutex(State())
    private let total: Int
    private let quiet: Bool

    init(total: Int, quiet: Bool) {
        self.total = total
        self.quiet = quiet
    }

    func report(_ event: RunEvent) {
        state.withLock { s in
            clear(&s)
            switch event {
            case .started(let stage, _):
                s.running.append((stage, DispatchTime.now().uptimeNanoseconds))
            case .note(let n):
                Output.err(n)
            case .finished(let stage, let outcome, let reason, let ms, let log):
                s.running.removeAll { $0.0 == stage }
                s.done += 1
                if !quiet || outcome == .failed {
                    let color: String =
                        switch outcome {
                        case .ran: "\u{1B}[32m"
                        case .failed: "\u{1B}[31m"
                        case .restored: "\u{1B}[36m"
                        default: "\u{1B}[2m"
                        }
                    let time = outcome == .ran || outcome == .failed ? " (\(Output.seconds(ms)))" : ""
                    Output.err("\(color)\(outcome.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))\u{1B}[0m \(stage)\(time): \(reason)")
                    if outcome == .failed, let tail = Output.tail(log) { Output.err(tail) }
                }
            }
            draw(&s)
        }
    }

    /// Redraws the running block (called by a ticker).
    func tick() {
        state.withLock { s in
            clear(&s)
            draw(&s)
        }
    }

    /// Erases the running block for good.
    func finish() {
        state.withLock { clear(&$0) }
    }

    private func clear(_ s: inout State) {
        guard s.drawn > 0 else { return }
        var out = ""
        for _ in 0..<s.drawn { out += "\u{1B}[1A\u{1B}[2K" }
        FileHandle.standardError.write(Data(out.utf8))
        s.drawn = 0
    }

    private func draw(_ s: inout State) {
        guard !s.running.isEmpty else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        var out = ""
        for (stage, started) in s.running {
            out += "  \u{1B}[33mrunning\u{1B}[0m  \(stage) \(Output.seconds(Int((now - started) / 1_000_000)))\n"
        }
        out += "  [\(s.done)/\(total)]\n"
        FileHandle.standardError.write(Data(out.utf8))
        s.drawn = s.running.count + 1
    }
}
