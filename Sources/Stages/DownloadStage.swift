import Crypto
public import Engine
import Foundation
public import YAML

/// `download`: fetches a pinned artifact over HTTPS (or from a local mirror or a file:// URL).
///
///     fetch:
///       download:
///         url: https://github.com/edgelesssys/contrast/releases/download/v1.14.0/emojivoto-demo.yml
///         sha256: 4f1c…                    # required unless allow-unpinned: true
///         output: resources/emojivoto-demo.yml
///         mirror: mirror                   # looked up by file name, then by digest, before the network
///         ca-file: certs/ca.pem            # trust anchors instead of the system store (https)
///         retries: 3                       # network retries with exponential backoff
///
/// A pinned artifact already in the cache store is never fetched again. A digest mismatch is an error naming
/// both digests, and nothing is written.
public struct DownloadStage: Stage {
    public static let typeName = "download"
    public static let version = 1
    public static let summary = "fetch a sha256-pinned artifact (https, file, local mirror)"
    public static let schema = ConfigSchema([
        .init("url", .string, required: true),
        .init("sha256", .string),
        .init("output", .string, required: true),
        .init("mirror", .string),
        .init("allow-unpinned", .bool),
        .init("ca-file", .string),
        .init("retries", .int),
    ])

    /// The source URL.
    public let url: String
    /// The pinned digest (lowercase hex), nil when unpinned.
    public let sha256: String?
    /// The file written.
    public let output: String
    /// A mirror directory, workspace-relative.
    public let mirror: String?
    /// Trust anchors for HTTPS.
    public let caFile: String?
    /// Network retries.
    public let retries: Int

    public var inputs: [String] { [] }
    public var outputs: [String] { [output] }

    public init(config: StageConfig) throws(Diagnostic) {
        let context = "stage '\(config.stageName)' (download)"
        url = config.string("url") ?? ""
        output = config.string("output") ?? ""
        mirror = config.string("mirror")
        caFile = config.string("ca-file")
        retries = config.int("retries") ?? 3
        guard url.hasPrefix("https://") || url.hasPrefix("file:") else {
            throw config.error(at: "url", "'url' in \(context) must be https:// or file: (got '\(url)')")
        }
        if let pin = config.string("sha256") {
            let lower = pin.lowercased()
            guard lower.count == 64, Digest(hex: lower) != nil else {
                throw config.error(at: "sha256", "'sha256' in \(context) must be 64 hex characters")
            }
            sha256 = lower
        } else if config.bool("allow-unpinned") == true {
            sha256 = nil
        } else {
            throw config.error(
                at: "url", "\(context) has no 'sha256' pin (set 'allow-unpinned: true' to download without one)")
        }
        guard Paths.isContained(output) else {
            throw config.error(at: "output", "'\(output)' in 'output' of \(context) must be a path inside the workspace")
        }
        if retries < 0 { throw config.error(at: "retries", "'retries' in \(context) must not be negative") }
    }

    /// The file name part of the URL (for mirror lookups).
    var fileName: String {
        URL(string: url)?.lastPathComponent ?? String(url.split(separator: "/").last ?? "")
    }

    public func run(_ context: StageContext) async throws -> StageResult {
        let bytes = try await fetch(context)
        let actual = SHA256.hash(bytes).hex
        if let sha256, actual != sha256 {
            throw StageFailure("\(url): sha256 mismatch: expected \(sha256), got \(actual)", isInputError: true)
        }
        if sha256 == nil {
            context.warn("\(url) is not pinned; it has sha256 \(actual) (add `sha256: \(actual)` to pin it)")
        }
        try FileSystem.writeAtomically(bytes, to: context.path(output))
        return StageResult()
    }

    private func fetch(_ context: StageContext) async throws -> [UInt8] {
        if let sha256, let cached = context.cachedBlob(sha256: sha256) {
            context.log("\(url): found in the cache store")
            context.counters.add("download.store")
            return cached
        }
        if let mirror {
            let dir = context.path(mirror)
            let candidates = [fileName, sha256, sha256.map { "sha256/\($0)" }].compactMap { $0 }.filter { !$0.isEmpty }
            for name in candidates {
                let path = "\(dir)/\(name)"
                guard FileManager.default.fileExists(atPath: path) else { continue }
                let bytes = try FileSystem.read(path)
                if let sha256 {
                    let actual = SHA256.hash(bytes).hex
                    guard actual == sha256 else {
                        throw StageFailure(
                            "mirror file \(mirror)/\(name): sha256 mismatch: expected \(sha256), got \(actual)", isInputError: true)
                    }
                }
                context.log("\(url): taken from mirror \(mirror)/\(name)")
                context.counters.add("download.mirror")
                return bytes
            }
        }
        if url.hasPrefix("file:") {
            var path = String(url.dropFirst("file:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            let resolved = Paths.resolve(path.removingPercentEncoding ?? path, against: context.workspace)
            guard let data = FileManager.default.contents(atPath: resolved) else {
                throw StageFailure("\(url): cannot read \(resolved)", isInputError: true)
            }
            context.counters.add("download.file")
            return [UInt8](data)
        }
        var attempt = 0
        while true {
            do {
                let bytes = try HTTPFetch.get(url, caFile: caFile.map { context.path($0) })
                context.counters.add("download.network")
                return bytes
            } catch {
                guard error.transient, attempt < retries else {
                    throw StageFailure("download \(url) failed: \(error.message)")
                }
                let delay = 500_000_000 * UInt64(1 << attempt)
                context.log("download \(url) failed (\(error.message)); retrying in \(Double(delay) / 1e9)s")
                attempt += 1
                try await Task.sleep(nanoseconds: delay)
            }
        }
    }
}
