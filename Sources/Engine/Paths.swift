import Foundation

/// Small path helpers (POSIX paths only).
public enum Paths {
    /// `path` if absolute, else `base/path`, normalized.
    public static func resolve(_ path: String, against base: String) -> String {
        let joined = path.hasPrefix("/") ? path : (base.hasSuffix("/") ? base + path : base + "/" + path)
        return normalize(joined)
    }

    /// Removes `.` components, folds `..` and duplicate slashes.
    public static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            parts.append(c)
        }
        let body = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + body : (body.isEmpty ? "." : body)
    }

    /// The directory part of a path.
    public static func directory(of path: String) -> String {
        guard let i = path.lastIndex(of: "/") else { return "." }
        return i == path.startIndex ? "/" : String(path[..<i])
    }

    /// The current directory.
    public static var currentDirectory: String { FileManager.default.currentDirectoryPath }

    /// True when a workspace-relative path stays inside the workspace.
    public static func isContained(_ relative: String) -> Bool {
        guard !relative.hasPrefix("/") else { return false }
        let n = normalize(relative)
        return n != ".." && !n.hasPrefix("../") && n != "."
    }
}
