import Crypto

/// Builds an action key: SHA-256 over length-prefixed fields, so that no two different field lists can
/// produce the same byte stream.
public struct ActionKeyBuilder {
    private var bytes: [UInt8] = []

    /// Starts a key with the domain label.
    public init(domain: String) {
        add(domain)
    }

    /// Appends one field: its UTF-8 length as 8 bytes big-endian, then its bytes.
    public mutating func add(_ field: String) {
        let utf8 = Array(field.utf8)
        let n = UInt64(utf8.count)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: n >> UInt64(shift))) }
        bytes.append(contentsOf: utf8)
    }

    /// Appends an integer field.
    public mutating func add(_ value: Int) {
        add(String(value))
    }

    /// The key (hex SHA-256).
    public func finish() -> String {
        SHA256.hash(bytes).hex
    }
}

extension KeyFields {
    /// The action key for these fields: type, version, tool version, canonical config digest, inputs sorted by
    /// path, upstream output digests sorted by stage.
    public var actionKey: String {
        var b = ActionKeyBuilder(domain: "contrast-pipe/action/v1")
        b.add(tool)
        b.add(type)
        b.add(version)
        b.add(config)
        b.add(inputs.count)
        for (path, digest) in inputs.sorted(by: { $0.key < $1.key }) {
            b.add(path)
            b.add(digest)
        }
        b.add(upstream.count)
        for (stage, digest) in upstream.sorted(by: { $0.key < $1.key }) {
            b.add(stage)
            b.add(digest)
        }
        return b.finish()
    }

    /// Human-readable differences from an earlier key's fields ("input in.txt changed", ...), most specific first.
    public func changes(since old: KeyFields) -> [String] {
        var out: [String] = []
        if old.type != type { out.append("stage type changed (\(old.type) → \(type))") }
        if old.version != version { out.append("\(type) implementation version changed (\(old.version) → \(version))") }
        if old.tool != tool { out.append("contrast-pipe version changed (\(old.tool) → \(tool))") }
        if old.config != config { out.append("config changed") }
        for (path, digest) in inputs.sorted(by: { $0.key < $1.key }) {
            if let before = old.inputs[path] {
                if before != digest { out.append("input \(path) changed") }
            } else {
                out.append("input \(path) added")
            }
        }
        for path in old.inputs.keys.sorted() where inputs[path] == nil { out.append("input \(path) removed") }
        for (stage, digest) in upstream.sorted(by: { $0.key < $1.key }) {
            if let before = old.upstream[stage] {
                if before != digest { out.append("upstream \(stage) changed") }
            } else {
                out.append("upstream \(stage) added")
            }
        }
        for stage in old.upstream.keys.sorted() where upstream[stage] == nil { out.append("upstream \(stage) removed") }
        return out
    }
}

/// The digest of a stage's output list, as folded into downstream keys.
enum OutputsDigest {
    static func of(_ outputs: [OutputRecord], sideEffectKey: String?) -> String {
        var b = ActionKeyBuilder(domain: "contrast-pipe/outputs/v1")
        b.add(outputs.count)
        for o in outputs.sorted(by: { $0.path < $1.path }) {
            b.add(o.path)
            b.add(o.digest)
            b.add(Int(o.mode))
        }
        b.add(sideEffectKey ?? "")
        return b.finish()
    }
}
