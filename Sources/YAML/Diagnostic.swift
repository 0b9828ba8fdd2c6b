/// A position in a source file, 1-based.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file as given by the user (or `<input>`).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column (in Unicode scalars as counted by libyaml).
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A user-facing error with an optional location and source excerpt, printed in compiler style:
///
///     file:line:col: error: message
///         the source line
///         ^
public struct Diagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is, when it belongs to a file.
    public var location: SourceLocation?
    /// What is wrong, in one line.
    public var message: String
    /// The offending source line, when known.
    public var excerpt: String?

    /// Creates a diagnostic.
    public init(location: SourceLocation?, message: String, excerpt: String? = nil) {
        self.location = location
        self.message = message
        self.excerpt = excerpt
    }

    /// Creates a diagnostic whose excerpt is taken from `source` at the location's line.
    public init(at location: SourceLocation, in source: SourceText?, _ message: String) {
        self.location = location
        self.message = message
        self.excerpt = source?.line(location.line)
    }

    public var description: String {
        var out = location.map { "\($0): error: \(message)" } ?? "error: \(message)"
        if let excerpt, let location {
            let trimmed = excerpt.count > 160 ? String(excerpt.prefix(157)) + "..." : excerpt
            out += "\n    \(trimmed)\n    " + String(repeating: " ", count: max(0, location.column - 1)) + "^"
        }
        return out
    }
}

/// The text of a source file, kept to print excerpts in diagnostics.
public struct SourceText: Sendable {
    /// The file name shown in diagnostics.
    public let file: String
    private let text: String

    /// Wraps `text` read from `file`.
    public init(file: String, text: String) {
        self.file = file
        self.text = text
    }

    /// The 1-based line `n`, without its newline, or nil when out of range. (Only diagnostics call this, so
    /// the text is scanned on demand.)
    public func line(_ n: Int) -> String? {
        guard n >= 1 else { return nil }
        var current = 1
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == n {
                var line = String(l)
                if line.hasSuffix("\r") { line.removeLast() }
                return line
            }
            current += 1
        }
        return nil
    }
}
