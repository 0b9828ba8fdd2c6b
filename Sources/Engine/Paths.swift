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
        if isNormal(path) { return path }
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

    /// True when `path` has no empty, `.` or `..` components and no trailing slash (the common case).
    static func isNormal(_ path: String) -> Bool {
        if path.isEmpty { return false }
        let slash = UInt8(ascii: "/")
        let dot = UInt8(ascii: ".")
        var length = 0
        var dots = 0
        var index = 0
        for c in path.utf8 {
            if c == slash {
                if length == 0 && index != 0 { return false }
                if length > 0 && dots == length && dots <= 2 { return false }
                length = 0
                dots = 0
            } else {
                length += 1
                if c == dot { dots += 1 }
            }
            index += 1
        }
        if length == 0 { return path == "/" }
        return !(dots == length && dots <= 2)
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
