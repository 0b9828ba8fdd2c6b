import Foundation

/// Errors from parsing or applying a unified diff; messages name the patch file and hunk.
public struct PatchError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The full message.
    public var message: String
    public var description: String { message }

    /// Creates an error.
    public init(message: String) {
        self.message = message
    }
}

/// One hunk of a unified diff.
public struct Hunk: Sendable, Equatable {
    /// The `@@ -a,b +c,d @@` header line as written.
    public var header: String
    /// 1-based start line in the old file.
    public var oldStart: Int
    /// Line counts from the header.
    public var oldCount: Int, newCount: Int
    /// Lines in order: (" ", "-", "+") and their text.
    public var lines: [(kind: Character, text: String)]

    /// The lines the old file must contain (context and removals).
    public var oldLines: [String] { lines.filter { $0.kind != "+" }.map(\.text) }
    /// The lines the new file contains (context and additions).
    public var newLines: [String] { lines.filter { $0.kind != "-" }.map(\.text) }

    public static func == (a: Hunk, b: Hunk) -> Bool {
        a.header == b.header && a.lines.map { "\($0.kind)\($0.text)" } == b.lines.map { "\($0.kind)\($0.text)" }
    }
}

/// A parsed unified diff for one file (`---`/`+++` headers optional, as in documentation snippets).
public struct UnifiedDiff: Sendable, Equatable {
    /// Where the diff came from, for messages.
    public var name: String
    /// The hunks, in order.
    public var hunks: [Hunk]

    /// Parses diff text. Several `---`/`+++` file sections are refused: a patch stage patches one input.
    public init(text: String, name: String) throws(PatchError) {
        self.name = name
        var hunks: [Hunk] = []
        var current: Hunk?
        var fileSections = 0
        var remainingOld = 0
        var remainingNew = 0
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        for (index, line) in lines.enumerated() {
            let lineNumber = index + 1
            if let hunk = current, remainingOld == 0 && remainingNew == 0 {
                hunks.append(hunk)
                current = nil
            }
            if current != nil {
                if line == "\\ No newline at end of file" { continue }
                let kind: Character = line.first ?? " "
                let body = line.isEmpty ? "" : String(line.dropFirst())
                switch kind {
                case " ":
                    remainingOld -= 1
                    remainingNew -= 1
                case "-": remainingOld -= 1
                case "+": remainingNew -= 1
                default:
                    throw PatchError(
                        message: "\(name):\(lineNumber): malformed hunk line (expected ' ', '-' or '+'): \(line)")
                }
                if remainingOld < 0 || remainingNew < 0 {
                    throw PatchError(
                        message: "\(name):\(lineNumber): hunk \(current?.header ?? "") has more lines than its header says")
                }
                current?.lines.append((kind, body))
                continue
            }
            if line.hasPrefix("--- ") {
                fileSections += 1
                if fileSections > 1 {
                    throw PatchError(message: "\(name):\(lineNumber): the patch changes more than one file")
                }
                continue
            }
            if line.hasPrefix("+++ ") || line.hasPrefix("diff ") || line.hasPrefix("index ") { continue }
            if line.hasPrefix("@@") {
                guard let parsed = Self.parseHeader(line) else {
                    throw PatchError(message: "\(name):\(lineNumber): malformed hunk header: \(line)")
                }
                current = Hunk(header: parsed.header, oldStart: parsed.0, oldCount: parsed.1, newCount: parsed.2, lines: [])
                remainingOld = parsed.1
                remainingNew = parsed.2
                continue
            }
            // Other lines (commit messages, blank lines between hunks) are ignored, as git apply does.
        }
        if let hunk = current {
            if remainingOld > 0 || remainingNew > 0 {
                throw PatchError(message: "\(name): hunk \(hunk.header) is truncated")
            }
            hunks.append(hunk)
        }
        guard !hunks.isEmpty else { throw PatchError(message: "\(name): no hunks found") }
        self.hunks = hunks
    }

    private static func parseHeader(_ line: String) -> (Int, Int, Int, header: String)? {
        // @@ -a[,b] +c[,d] @@ optional section
        guard line.hasPrefix("@@ -"), let close = line.range(of: " @@", range: line.index(line.startIndex, offsetBy: 3)..<line.endIndex)
        else { return nil }
        let ranges = line[line.index(line.startIndex, offsetBy: 3)..<close.lowerBound].split(separator: " ")
        guard ranges.count == 2, ranges[0].hasPrefix("-"), ranges[1].hasPrefix("+") else { return nil }
        func range(_ s: Substring) -> (Int, Int)? {
            let parts = s.dropFirst().split(separator: ",")
            guard let start = Int(parts[0]) else { return nil }
            if parts.count == 1 { return (start, 1) }
            guard parts.count == 2, let count = Int(parts[1]) else { return nil }
            return (start, count)
        }
        guard let old = range(ranges[0]), let new = range(ranges[1]) else { return nil }
        return (old.0, old.1, new.1, header: String(line[..<close.upperBound]))
    }
}

/// The outcome of applying a diff: the new text and, per hunk, where it applied.
public struct PatchResult: Sendable {
    /// The patched text.
    public var text: String
    /// Human-readable notes: offsets and fuzz used ("hunk @@ -36,6 +36,7 @@ applied at line 40 (offset 4)").
    public var notes: [String]

    /// Creates a result.
    public init(text: String, notes: [String]) {
        self.text = text
        self.notes = notes
    }
}

extension UnifiedDiff {
    /// Applies every hunk to `text` with git-apply semantics: all hunks apply or an error is thrown and
    /// nothing changes. A hunk whose lines match elsewhere in the file applies there (offset, reported). With
    /// `fuzz` > 0, up to that many leading and trailing context lines may be ignored (as GNU patch does).
    public func apply(to text: String, fuzz: Int = 0) throws(PatchError) -> PatchResult {
        let endsWithNewline = text.hasSuffix("\n")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if endsWithNewline || text.isEmpty { lines.removeLast() }
        var notes: [String] = []
        var delta = 0  // earlier hunks' offsets and line-count changes
        var minimumStart = 0  // hunks apply in order and never overlap
        for hunk in hunks {
            let expected = max(0, hunk.oldStart - 1 + delta)
            var found: (start: Int, old: [String], new: [String], lead: Int, fuzz: Int)?
            for f in 0...max(0, fuzz) {
                if let (start, old, new, lead) = locate(hunk, in: lines, expected: expected, from: minimumStart, fuzz: f) {
                    found = (start, old, new, lead, f)
                    break
                }
            }
            guard let found else { throw PatchError(message: mismatch(hunk, lines: lines, expected: expected)) }
            lines.replaceSubrange(found.start..<(found.start + found.old.count), with: found.new)
            let actualOffset = found.start - found.lead - expected
            var detail: [String] = []
            if actualOffset != 0 { detail.append("offset \(actualOffset) lines") }
            if found.fuzz > 0 { detail.append("fuzz \(found.fuzz)") }
            if !detail.isEmpty {
                notes.append(
                    "\(name): hunk \(hunk.header) applied at line \(found.start - found.lead + 1) (\(detail.joined(separator: ", ")))")
            }
            delta += actualOffset + found.new.count - found.old.count
            minimumStart = found.start + found.new.count
        }
        var out = lines.joined(separator: "\n")
        if endsWithNewline || (text.isEmpty && !lines.isEmpty) { out += "\n" }
        return PatchResult(text: out, notes: notes)
    }

    /// Finds where the hunk's old lines occur, nearest to the expected line first. Returns the start of the
    /// (fuzz-trimmed) old lines, the trimmed old and new lines, and how many leading lines were trimmed.
    private func locate(
        _ hunk: Hunk,
        in lines: [String],
        expected: Int,
        from minimumStart: Int,
        fuzz: Int
    ) -> (Int, [String], [String], Int)? {
        var body = hunk.lines[...]
        let lead = min(fuzz, body.prefix { $0.kind == " " }.count)
        let trail = min(fuzz, body.reversed().prefix { $0.kind == " " }.count)
        body = body.dropFirst(lead).dropLast(trail)
        let old = body.filter { $0.kind != "+" }.map(\.text)
        let new = body.filter { $0.kind != "-" }.map(\.text)
        let target = expected + lead
        if old.isEmpty {
            // A pure addition (e.g. to an empty file) goes where the header says.
            return (min(max(target, minimumStart), lines.count), old, new, lead)
        }
        func matches(at p: Int) -> Bool {
            guard p >= minimumStart, p + old.count <= lines.count else { return false }
            for i in 0..<old.count where lines[p + i] != old[i] { return false }
            return true
        }
        for distance in 0...max(lines.count, 1) {
            if matches(at: target - distance) { return (target - distance, old, new, lead) }
            if distance > 0 && matches(at: target + distance) { return (target + distance, old, new, lead) }
        }
        return nil
    }

    private func mismatch(_ hunk: Hunk, lines: [String], expected: Int) -> String {
        let old = hunk.oldLines
        for (i, want) in old.enumerated() {
            let at = expected + i
            let found = at < lines.count ? lines[at] : nil
            if found != want {
                let foundText = found.map { "'\($0)'" } ?? "end of file"
                return "\(name): hunk \(hunk.header) does not apply: line \(at + 1) should be '\(want)', found \(foundText)"
            }
        }
        return "\(name): hunk \(hunk.header) does not apply: its lines overlap an earlier hunk"
    }
}
