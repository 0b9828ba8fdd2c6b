import Compression
import Crypto
import Foundation

/// Errors of the Contrast formats, each naming the workload or field concerned.
public struct ContrastError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The message.
    public var message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// The initdata document (trustee initdata spec, as Contrast writes it): TOML with `version = '0.1.0'`,
/// `algorithm = 'sha256'` and a `[data]` table whose `policy.rego` entry holds the agent policy. The policy
/// hash in the manifest is the SHA-256 of the exact TOML bytes; the pod annotation is base64(gzip(TOML)).
public struct Initdata: Sendable, Equatable {
    /// The annotation that carries it.
    public static let annotation = "io.katacontainers.config.hypervisor.cc_init_data"

    /// The exact TOML bytes.
    public let toml: [UInt8]

    /// Builds the document for `data` entries (sorted by key, as go-toml writes maps).
    public init(data: [String: String]) {
        var text = "version = '0.1.0'\nalgorithm = 'sha256'\n\n[data]\n"
        for key in data.keys.sorted() {
            text += Initdata.quoteKey(key) + " = " + Initdata.quoteValue(data[key] ?? "") + "\n"
        }
        toml = Array(text.utf8)
    }

    /// Wraps existing TOML bytes (e.g. decoded from an annotation).
    public init(toml: [UInt8]) {
        self.toml = toml
    }

    /// The policy hash: SHA-256 over the exact TOML bytes, hex.
    public var digest: String { SHA256.hash(toml).hex }

    /// The annotation value: base64(gzip(TOML)).
    public func annotationValue() throws -> String {
        Data(try Gzip.compress(toml)).base64EncodedString()
    }

    /// Decodes an annotation value back to the TOML document.
    public static func decode(annotation value: String) throws -> Initdata {
        guard let packed = Data(base64Encoded: value) else { throw ContrastError("initdata annotation is not base64") }
        return Initdata(toml: try Gzip.decompress([UInt8](packed), limit: 64 << 20))
    }

    /// The `[data]` entries of a document in the form this type writes (a reader for tests and `verify`).
    public func dataEntries() throws -> [String: String] {
        let text = String(decoding: toml, as: UTF8.self)
        guard text.hasPrefix("version = '0.1.0'\nalgorithm = 'sha256'\n\n[data]\n") else {
            throw ContrastError("initdata: unexpected header")
        }
        var out: [String: String] = [:]
        var rest = Substring(text.dropFirst("version = '0.1.0'\nalgorithm = 'sha256'\n\n[data]\n".count))
        while !rest.isEmpty {
            guard let eq = rest.range(of: " = ") else { throw ContrastError("initdata: malformed entry") }
            let key = Initdata.unquote(String(rest[..<eq.lowerBound]))
            rest = rest[eq.upperBound...]
            if rest.hasPrefix("'''\n") {
                rest = rest.dropFirst(4)
                guard let end = rest.range(of: "'''\n") else { throw ContrastError("initdata: unterminated string") }
                out[key] = String(rest[..<end.lowerBound])
                rest = rest[end.upperBound...]
            } else {
                guard let nl = rest.firstIndex(of: "\n") else { throw ContrastError("initdata: malformed entry") }
                out[key] = Initdata.unquote(String(rest[..<nl]))
                rest = rest[rest.index(after: nl)...]
            }
        }
        return out
    }

    static func quoteKey(_ key: String) -> String {
        let bare = key.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
        return bare && !key.isEmpty ? key : "'" + key + "'"
    }

    /// go-toml style: literal strings ('…'), multi-line literals ('''…''') for text with newlines.
    static func quoteValue(_ value: String) -> String {
        if value.contains("\n") && !value.contains("'''") { return "'''\n" + value + "'''" }
        if !value.contains("'") && !value.contains("\n") { return "'" + value + "'" }
        var out = "\""
        for c in value.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    static func unquote(_ s: String) -> String {
        if s.hasPrefix("'") && s.hasSuffix("'") && s.count >= 2 { return String(s.dropFirst().dropLast()) }
        if s.hasPrefix("\"") && s.hasSuffix("\"") && s.count >= 2 {
            return String(s.dropFirst().dropLast()).replacingOccurrences(of: "\\n", with: "\n")
                .replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
        }
        return s
    }
}
