internal import CZlib

/// zlib failures with zlib's own message.
public struct CompressionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The zlib return code.
    public let code: Int32
    /// What failed.
    public let message: String

    public var description: String { "gzip: \(message) (zlib code \(code))" }
}

/// gzip (RFC 1952) compression through zlib. Output is deterministic: no file name and a zero mtime.
public enum Gzip {
    /// Compresses `input` into a gzip member at the given level (0–9).
    public static func compress(_ input: [UInt8], level: Int32 = 9) throws(CompressionError) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 selects the gzip wrapper; deflateInit2 is a macro, so call deflateInit2_.
        var rc = deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw CompressionError(code: rc, message: "deflateInit2 failed") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(input.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        var inputCopy = input
        rc = inputCopy.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else { throw CompressionError(code: rc, message: "deflate did not finish") }
        return Array(output.prefix(Int(stream.total_out)))
    }

    /// Decompresses one or more concatenated gzip members, refusing output beyond `limit` bytes.
    public static func decompress(_ input: [UInt8], limit: Int = 1 << 30) throws(CompressionError) -> [UInt8] {
        var stream = z_stream()
        var rc = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw CompressionError(code: rc, message: "inflateInit2 failed") }
        defer { inflateEnd(&stream) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var inputCopy = input
        var consumed = 0
        while true {
            let produced: Int
            (rc, produced) = inputCopy.withUnsafeMutableBufferPointer { inBuf in
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_in = inBuf.baseAddress.map { $0 + consumed }
                    stream.avail_in = UInt32(inBuf.count - consumed)
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = UInt32(outBuf.count)
                    let before = stream.avail_in
                    let r = inflate(&stream, Z_NO_FLUSH)
                    consumed += Int(before - stream.avail_in)
                    return (r, outBuf.count - Int(stream.avail_out))
                }
            }
            result.append(contentsOf: chunk.prefix(produced))
            if result.count > limit {
                throw CompressionError(code: Z_DATA_ERROR, message: "output exceeds \(limit) bytes")
            }
            if rc == Z_STREAM_END {
                if consumed == input.count { return result }
                inflateReset(&stream)
                continue
            }
            if rc == Z_BUF_ERROR && consumed == input.count {
                throw CompressionError(code: rc, message: "truncated gzip stream")
            }
            guard rc == Z_OK || rc == Z_BUF_ERROR else {
                let message = stream.msg.map { String(cString: $0) } ?? "inflate failed"
                throw CompressionError(code: rc, message: message)
            }
        }
    }
}
