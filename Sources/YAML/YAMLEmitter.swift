internal import CYAML

/// Writes `YAMLNode` trees as YAML through libyaml's emitter.
///
/// Output is deterministic: mapping keys keep their order, loaded scalars keep their style, scalars built in
/// code are plain when that reads back as the same string (under YAML 1.1 and 1.2) and double-quoted otherwise,
/// indentation is two spaces, lines are never folded, and documents are separated by `---`.
public enum YAMLEmitter {
    /// Emits one document.
    public static func emit(_ node: YAMLNode) throws(Diagnostic) -> String {
        try emit(documents: [node])
    }

    /// Emits a multi-document stream.
    public static func emit(documents: [YAMLNode]) throws(Diagnostic) -> String {
        let writer = Writer()
        try writer.stream(documents)
        return String(decoding: writer.output, as: UTF8.self)
    }
}

/// Owns one `yaml_emitter_t` and the bytes it writes.
private final class Writer {
    var emitter = yaml_emitter_t()
    var output: [UInt8] = []

    init() {
        yaml_emitter_initialize(&emitter)
        yaml_emitter_set_unicode(&emitter, 1)
        yaml_emitter_set_width(&emitter, -1)
        yaml_emitter_set_indent(&emitter, 2)
        yaml_emitter_set_break(&emitter, YAML_LN_BREAK)
    }

    deinit {
        yaml_emitter_delete(&emitter)
    }

    func stream(_ documents: [YAMLNode]) throws(Diagnostic) {
        let box = Unmanaged.passUnretained(self).toOpaque()
        yaml_emitter_set_output(
            &emitter,
            { data, buffer, size in
                guard let data, let buffer else { return 0 }
                let me = Unmanaged<Writer>.fromOpaque(data).takeUnretainedValue()
                me.output.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
                return 1
            }, box)
        var event = yaml_event_t()
        yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING)
        try emit(&event)
        for (i, doc) in documents.enumerated() {
            yaml_document_start_event_initialize(&event, nil, nil, nil, i == 0 ? 1 : 0)
            try emit(&event)
            try node(doc)
            yaml_document_end_event_initialize(&event, 1)
            try emit(&event)
        }
        yaml_stream_end_event_initialize(&event)
        try emit(&event)
        yaml_emitter_flush(&emitter)
    }

    private func emit(_ event: inout yaml_event_t) throws(Diagnostic) {
        // yaml_emitter_emit takes ownership of the event, also on failure.
        guard yaml_emitter_emit(&emitter, &event) == 1 else {
            let problem = emitter.problem.map { String(cString: $0) } ?? "cannot emit YAML"
            throw Diagnostic(location: nil, message: "YAML emitter: \(problem)")
        }
    }

    private func node(_ n: YAMLNode) throws(Diagnostic) {
        var event = yaml_event_t()
        let tag = n.tag
        switch n.content {
        case .scalar(let value, let style):
            var cStyle: yaml_scalar_style_t
            switch style {
            case .plain: cStyle = YAML_PLAIN_SCALAR_STYLE
            case .singleQuoted: cStyle = YAML_SINGLE_QUOTED_SCALAR_STYLE
            case .doubleQuoted: cStyle = YAML_DOUBLE_QUOTED_SCALAR_STYLE
            case .literal: cStyle = YAML_LITERAL_SCALAR_STYLE
            case .folded: cStyle = YAML_FOLDED_SCALAR_STYLE
            case .any:
                cStyle = tag == nil && ScalarResolver.needsQuoting(value)
                    ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE
            }
            // A plain scalar loaded as a string must not come back as another type.
            if style == .plain && tag == nil && ScalarResolver.resolve(value) == .string
                && ScalarResolver.needsQuoting(value)
            {
                cStyle = YAML_DOUBLE_QUOTED_SCALAR_STYLE
            }
            let implicit: Int32 = tag == nil ? 1 : 0
            var bytes = Array(value.utf8)
            let length = Int32(bytes.count)
            bytes.append(0)  // never empty, so the buffer always has a base address
            withOptionalCString(tag) { tagPtr in
                bytes.withUnsafeMutableBufferPointer { buf in
                    _ = yaml_scalar_event_initialize(
                        &event, nil, tagPtr, buf.baseAddress, length, implicit, implicit, cStyle)
                }
            }
            try emit(&event)
        case .sequence(let items, let style):
            withOptionalCString(tag) { tagPtr in
                _ = yaml_sequence_start_event_initialize(
                    &event, nil, tagPtr, tag == nil ? 1 : 0,
                    style == .flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE)
            }
            try emit(&event)
            for item in items { try node(item) }
            yaml_sequence_end_event_initialize(&event)
            try emit(&event)
        case .mapping(let pairs, let style):
            withOptionalCString(tag) { tagPtr in
                _ = yaml_mapping_start_event_initialize(
                    &event, nil, tagPtr, tag == nil ? 1 : 0,
                    style == .flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE)
            }
            try emit(&event)
            for pair in pairs {
                try node(pair.key)
                try node(pair.value)
            }
            yaml_mapping_end_event_initialize(&event)
            try emit(&event)
        }
    }

    private func withOptionalCString(_ s: String?, _ body: (UnsafeMutablePointer<yaml_char_t>?) -> Void) {
        guard let s else { return body(nil) }
        var bytes = Array(s.utf8) + [0]
        bytes.withUnsafeMutableBufferPointer { body($0.baseAddress) }
    }
}
