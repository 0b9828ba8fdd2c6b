/// The service-mesh annotations and their grammar, checked at generate time (the sidecar only fails at runtime).
public enum ServiceMesh {
    /// Ingress configuration annotation.
    public static let ingress = "contrast.edgeless.systems/servicemesh-ingress"
    /// Egress configuration annotation.
    public static let egress = "contrast.edgeless.systems/servicemesh-egress"
    /// Envoy admin port annotation.
    public static let adminPort = "contrast.edgeless.systems/servicemesh-admin-interface-port"

    /// Validates the annotations of one workload; the error names the workload, the annotation and the entry.
    public static func validate(_ annotations: [String: String], workload: String) throws(ContrastError) {
        if let value = annotations[egress] {
            for entry in value.components(separatedBy: "##") where !entry.isEmpty {
                if let problem = egressProblem(entry) {
                    throw ContrastError("\(workload): annotation \(egress): entry '\(entry)': \(problem)")
                }
            }
        }
        if let value = annotations[ingress], value != "DISABLED" {
            for entry in value.components(separatedBy: "##") where !entry.isEmpty {
                if let problem = ingressProblem(entry) {
                    throw ContrastError("\(workload): annotation \(ingress): entry '\(entry)': \(problem)")
                }
            }
        }
        if let value = annotations[adminPort], !isPort(value) {
            throw ContrastError("\(workload): annotation \(adminPort): '\(value)' is not a port number")
        }
    }

    static func egressProblem(_ entry: String) -> String? {
        let fields = entry.components(separatedBy: "#")
        guard fields.count == 3 else { return "invalid entry: expected <name>#<listen IP>:<port>#<host>:<port>" }
        guard !fields[0].isEmpty else { return "invalid entry: empty name" }
        guard let (ip, port) = splitHostPort(fields[1]), let octets = ipv4(ip), isPort(port) else {
            return "invalid listen address '\(fields[1])'"
        }
        guard octets[0] == 127 else { return "listen address \(fields[1]) is not in local CIDR 127.0.0.1/8" }
        guard let (host, remotePort) = splitHostPort(fields[2]), !host.isEmpty else {
            return "invalid remote domain '\(fields[2])'"
        }
        guard isPort(remotePort) else { return "invalid remote port '\(remotePort)'" }
        return nil
    }

    static func ingressProblem(_ entry: String) -> String? {
        let fields = entry.components(separatedBy: "#")
        guard fields.count == 3 else { return "invalid entry: expected <name>#<port>#<disable TLS: true|false>" }
        guard isPort(fields[1]) else { return "invalid listen port '\(fields[1])'" }
        guard fields[2] == "true" || fields[2] == "false" else { return "invalid disable TLS '\(fields[2])'" }
        return nil
    }

    static func splitHostPort(_ s: String) -> (String, String)? {
        if s.hasPrefix("["), let close = s.firstIndex(of: "]") {
            let host = String(s[s.index(after: s.startIndex)..<close])
            let rest = s[s.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            return (host, String(rest.dropFirst()))
        }
        guard let colon = s.lastIndex(of: ":"), s.firstIndex(of: ":") == colon else { return nil }
        return (String(s[..<colon]), String(s[s.index(after: colon)...]))
    }

    static func ipv4(_ s: String) -> [Int]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [Int] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isNumber), let v = Int(p), v <= 255 else { return nil }
            if p.count > 1 && p.hasPrefix("0") { return nil }
            out.append(v)
        }
        return out
    }

    static func isPort(_ s: String) -> Bool {
        guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(s) else { return false }
        return v >= 0 && v <= 65535
    }
}
