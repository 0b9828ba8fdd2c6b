import Crypto
import Engine
import Foundation

extension GenerateStage {
    static let separator = Array("---\n".utf8)

    /// One document of an input file: its byte range, first line, digest, and whether a newline must be added.
    struct SourceDocument {
        var range: Range<Int>
        var line: Int
        var addNewline: Bool
        var digest: String

        /// The document's text (only needed when it is rendered, i.e. on a memo miss); must be UTF-8.
        func text(in bytes: [UInt8], file: String) throws -> String {
            guard let text = String(validating: bytes[range], as: UTF8.self) else {
                throw StageFailure("\(file):\(line): the document is not UTF-8 text", isInputError: true)
            }
            return text + (addNewline ? "\n" : "")
        }
    }

    /// The last run's assembly for this output (document digest → where its rendering is in the output file) and
    /// the output's bytes, when the file still has the digest that run wrote; empty otherwise.
    static func previousAssembly(_ context: StageContext, key: [String], output: String) async throws -> (
        [String: AssemblyIndex.Entry], [UInt8]
    ) {
        guard
            let index = try context.memo(namespace: "generate.assembly", key: key).flatMap(
                AssemblyIndex.init(encoded:)
            ),
            try context.fileDigest(output) == index.outputDigest,
            let bytes = try? FileSystem.read(context.path(output)),
            bytes.count == index.outputSize
        else { return ([:], []) }
        var reuse: [String: AssemblyIndex.Entry] = [:]
        reuse.reserveCapacity(index.entries.count)
        for entry in index.entries { reuse[entry.document] = entry }
        return (reuse, bytes)
    }

    /// Content-defined chunk boundaries for a large output, at document ends: a chunk ends after a document whose
    /// source digest ends in "0" (one in 16) or once it reaches 256 KiB, so an edit to one document changes one chunk.
    static func chunkBoundaries(_ entries: [AssemblyIndex.Entry], size: Int) -> [Int] {
        guard size > 256 * 1024 else { return [] }
        var boundaries: [Int] = []
        var start = 0
        for e in entries where e.range.upperBound > start {
            if e.document.hasSuffix("0") || e.range.upperBound - start >= 256 * 1024 {
                boundaries.append(e.range.upperBound)
                start = e.range.upperBound
            }
        }
        if boundaries.last != size { boundaries.append(size) }
        return boundaries
    }

    /// Reads an input file. (Documents are checked to be UTF-8 when they are rendered; a document reused by digest
    /// was checked when it was first rendered.)
    static func readInput(_ path: String, name: String) throws -> [UInt8] {
        do { return try FileSystem.read(path) } catch { throw StageFailure("cannot read \(name)", isInputError: true) }
    }

    /// Splits a YAML stream at `---` lines (column 0) into documents with their first line numbers, skipping empty
    /// ones. Streams with directives (`%YAML`) are kept whole.
    static func splitDocuments(_ bytes: [UInt8]) -> [SourceDocument] {
        var hasDirective = bytes.first == UInt8(ascii: "%")
        for i in 1..<max(bytes.count, 1) where bytes[i] == UInt8(ascii: "%") && bytes[i - 1] == 10 {
            hasDirective = true
            break
        }
        var out: [SourceDocument] = []
        func add(_ range: Range<Int>, line: Int) {
            let slice = bytes[range]
            guard slice.contains(where: { $0 != 32 && $0 != 10 && $0 != 13 && $0 != 9 }) else { return }
            let addNewline = slice.last != 10
            let hasher = try? Hasher(.sha256)
            hasher?.update(slice)
            if addNewline { hasher?.update([10]) }
            out.append(
                SourceDocument(range: range, line: line, addNewline: addNewline, digest: hasher?.finalize().hex ?? "")
            )
        }
        if hasDirective {
            add(0..<bytes.count, line: 1)
            return out
        }
        var docStart = 0  // byte offset where the current document's text starts
        var docLine = 1
        var line = 1
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = buffer.count
            var lineStart = 0
            while lineStart <= count {
                // The end of this line (memchr, not a byte loop: inputs are megabytes).
                let rest = count - lineStart
                let nl = rest > 0 ? memchr(base + lineStart, 10, rest) : nil
                let end = nl.map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base } ?? count
                let length = end - lineStart
                if length >= 3 && base[lineStart] == 45 && base[lineStart + 1] == 45 && base[lineStart + 2] == 45
                    && (length == 3 || base[lineStart + 3] == 32 || (length == 4 && base[lineStart + 3] == 13))
                {
                    if lineStart > docStart { add(docStart..<lineStart, line: docLine) }
                    let inline = length > 4 && base[lineStart + 3] == 32
                    docStart = inline ? lineStart + 4 : min(end + 1, count)
                    docLine = inline ? line : line + 1
                }
                line += 1
                if nl == nil { break }
                lineStart = end + 1
            }
        }
        if bytes.count > docStart { add(docStart..<bytes.count, line: docLine) }
        return out
    }

    /// `splitDocuments` on text: each document's text (newline-terminated) and first line.
    static func splitDocuments(_ text: String) -> [(String, Int)] {
        let bytes = Array(text.utf8)
        return splitDocuments(bytes).map {
            (String(decoding: bytes[$0.range], as: UTF8.self) + ($0.addNewline ? "\n" : ""), $0.line)
        }
    }

    /// One document after generate, as memoized: a header line (`P` for pass-through, or `W` and the tab-separated
    /// policy digest, role, secret ID, name and display name of a workload), then the document's YAML.
    struct RenderedDocument {
        var isWorkload: Bool
        var digest = "", role = "", secretID = "", name = "", display = ""
        var yaml = ""

        var encoded: [UInt8] {
            let header = isWorkload ? ["W", digest, role, secretID, name, display].joined(separator: "\t") : "P"
            return Array((header + "\n" + yaml).utf8)
        }

        init(isWorkload: Bool, yaml: String) {
            self.isWorkload = isWorkload
            self.yaml = yaml
        }

        /// Decodes a header line (without its newline), splitting bytes at tabs.
        init?(header: ArraySlice<UInt8>) {
            isWorkload = header.first == UInt8(ascii: "W")
            guard isWorkload else { return }
            var fields: [String] = []
            var start = header.startIndex
            for i in header.indices where header[i] == 9 {
                fields.append(String(decoding: header[start..<i], as: UTF8.self))
                start = i + 1
            }
            fields.append(String(decoding: header[start...], as: UTF8.self))
            guard fields.count == 6 else { return nil }
            (digest, role, secretID, name, display) = (fields[1], fields[2], fields[3], fields[4], fields[5])
        }
    }
}

/// Which document produced which bytes of the last output: lets a run copy unchanged documents straight from the
/// output file (verified by digest) instead of fetching a thousand memo entries from the store.
struct AssemblyIndex {
    struct Entry {
        var document: String
        var range: Range<Int>
        var header: [UInt8]
    }

    static let magic = "contrast-pipe generate assembly v1"
    var outputDigest: String
    var outputSize: Int
    var entries: [Entry] = []

    init(outputDigest: String, outputSize: Int, entries: [Entry]) {
        self.outputDigest = outputDigest
        self.outputSize = outputSize
        self.entries = entries
    }

    var encoded: [UInt8] {
        var out = Array("\(Self.magic)\t\(outputDigest)\t\(outputSize)\n".utf8)
        out.reserveCapacity(entries.count * 200)
        for e in entries {
            out += e.document.utf8
            out.append(9)
            Self.appendDecimal(e.range.lowerBound, to: &out)
            out.append(9)
            Self.appendDecimal(e.range.upperBound, to: &out)
            out.append(9)
            out += e.header
            out.append(10)
        }
        return out
    }

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        var digits: [UInt8] = []
        var v = value
        repeat {
            digits.append(UInt8(48 + v % 10))
            v /= 10
        } while v > 0
        out += digits.reversed()
    }

    static func parseDecimal(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count < 19 else { return nil }
        var v = 0
        for b in bytes {
            guard b >= 48 && b <= 57 else { return nil }
            v = v * 10 + Int(b - 48)
        }
        return v
    }

    init?(encoded bytes: [UInt8]) {
        var lines = bytes.split(separator: 10, omittingEmptySubsequences: true)[...]
        guard let first = lines.popFirst() else { return nil }
        let head = String(decoding: first, as: UTF8.self).split(separator: "\t")
        guard head.count == 3, head[0] == Self.magic, let size = Int(head[2]) else { return nil }
        outputDigest = String(head[1])
        outputSize = size
        entries.reserveCapacity(lines.count)
        for line in lines {
            var fields: [ArraySlice<UInt8>] = []
            var start = line.startIndex
            for i in line.indices where fields.count < 3 && line[i] == 9 {
                fields.append(line[start..<i])
                start = i + 1
            }
            guard fields.count == 3, let lower = Self.parseDecimal(fields[1]), let upper = Self.parseDecimal(fields[2]),
                lower <= upper, upper <= size
            else { return nil }
            entries.append(
                Entry(
                    document: String(decoding: fields[0], as: UTF8.self),
                    range: lower..<upper,
                    header: Array(line[start...])
                )
            )
        }
    }
}
