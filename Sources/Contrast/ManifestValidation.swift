import Crypto

/// The outcome of validating a manifest: hard errors, and reference values that are "expected missing"
/// (the user must fill them in; `generate` still writes, `set` refuses). Messages are path-prefixed like
/// Contrast's (`ReferenceValues.snp[0].MinimumTCB.BootloaderVersion: field cannot be empty`).
public struct ManifestVerdict: Sendable, Equatable {
    /// Errors that make the manifest invalid.
    public var errors: [String] = []
    /// Values the user has to supply.
    public var expectedMissing: [String] = []

    /// An empty verdict.
    public init(errors: [String] = [], expectedMissing: [String] = []) {
        self.errors = errors
        self.expectedMissing = expectedMissing
    }

    /// True when there are no errors and nothing is missing.
    public var complete: Bool { errors.isEmpty && expectedMissing.isEmpty }
}

extension Manifest {
    /// Validates by Contrast's rules (§1.5 of contrast-formats.md).
    public func validate() -> ManifestVerdict {
        var v = ManifestVerdict()
        func isHex(_ s: String, _ length: Int) -> Bool {
            s.count == length
                && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
        }
        for (hash, entry) in policies.sorted(by: { $0.key < $1.key }) {
            if !isHex(hash, 64) { v.errors.append("Policies[\(hash)]: policy hash must be 64 hex characters") }
            if entry.role != "" && entry.role != "coordinator" {
                v.errors.append("Policies[\(hash)].Role: invalid role '\(entry.role)'")
            }
        }
        if !policies.values.contains(where: { $0.role == "coordinator" }) {
            v.errors.append("Policies: missing a policy with role 'coordinator' (add the Coordinator's resources)")
        }
        if snp.isEmpty && tdx.isEmpty {
            v.errors.append("reference values in manifest cannot be empty. Is the chosen platform supported?")
        }
        for (i, rv) in snp.enumerated() {
            let path = "ReferenceValues.snp[\(i)]"
            for field in Manifest.tcbOrder where rv["MinimumTCB"]?[field]?.number == nil {
                v.expectedMissing.append("\(path).MinimumTCB.\(field): field cannot be empty")
            }
            if let product = rv["ProductName"]?.string, product != "Milan" && product != "Genoa" {
                v.errors.append("\(path).ProductName: unknown product '\(product)' (expected Milan or Genoa)")
            }
            if !isHex(rv["TrustedMeasurement"]?.string ?? "", 96) {
                v.errors.append("\(path).TrustedMeasurement: must be 96 hex characters")
            }
            if let policy = rv["GuestPolicy"] {
                if policy["ABIMajor"]?.number ?? 0 != 0 { v.errors.append("\(path).GuestPolicy.ABIMajor: must be 0") }
                if ![0, 31].contains(policy["ABIMinor"]?.number ?? 0) {
                    v.errors.append("\(path).GuestPolicy.ABIMinor: must be 0 or 31")
                }
                if policy["SMT"] != .bool(true) {
                    v.errors.append("\(path).GuestPolicy.SMT: modifying this field is not permitted")
                }
                for field in [
                    "MigrateMA", "Debug", "SingleSocket", "CXLAllowed", "MemAES256XTS", "RAPLDis",
                    "CipherTextHidingDRAM",
                ]
                where policy[field] == .bool(true) {
                    v.errors.append("\(path).GuestPolicy.\(field): modifying this field is not permitted")
                }
            }
            for (j, chip) in (rv["AllowedChipIDs"]?.array ?? []).enumerated() where !isHex(chip.string ?? "", 128) {
                v.errors.append("\(path).AllowedChipIDs[\(j)]: must be 128 hex characters")
            }
        }
        for (i, rv) in tdx.enumerated() {
            let path = "ReferenceValues.tdx[\(i)]"
            if !isHex(rv["MrTd"]?.string ?? "", 96) { v.errors.append("\(path).MrTd: must be 96 hex characters") }
            if let seam = rv["MrSeam"]?.string, !seam.isEmpty {
                if !isHex(seam, 96) { v.errors.append("\(path).MrSeam: must be 96 hex characters") }
            } else {
                v.expectedMissing.append("\(path).MrSeam: field cannot be empty")
            }
            if !isHex(rv["Xfam"]?.string ?? "", 16) { v.errors.append("\(path).Xfam: must be 16 hex characters") }
            for (j, r) in (rv["Rtmrs"]?.array ?? []).enumerated() where !isHex(r.string ?? "", 96) {
                v.errors.append("\(path).Rtmrs[\(j)]: must be 96 hex characters")
            }
        }
        for (i, d) in workloadOwnerKeyDigests.enumerated() where !isHex(d, 64) {
            v.errors.append("WorkloadOwnerKeyDigests[\(i)]: must be 64 hex characters")
        }
        for (i, k) in seedshareOwnerPubKeys.enumerated() where Digest(hex: k) == nil {
            v.errors.append("SeedshareOwnerPubKeys[\(i)]: must be hex")
        }
        return v
    }
}

/// Reference values for platforms that contrast-pipe can produce without inventing anything.
public enum ReferenceValues {
    /// The launch measurement of the simulated SEV-SNP guest used by local runs (the simulated TEE signs
    /// reports with it): SHA-384 of a fixed label, so it is obviously not a real measurement.
    public static var simulatedMeasurement: String {
        SHA384.hash(Array("contrast-pipe simulated SEV-SNP guest v1".utf8)).hex
    }

    /// An SNP entry for the simulated platform; MinimumTCB from the pipeline (nil fields stay null).
    public static func simulatedSNP(minimumTCB: [String: Int]?, product: String = "Milan") -> JSONValue {
        var tcb: [(String, JSONValue)] = []
        for field in Manifest.tcbOrder { tcb.append((field, minimumTCB?[field].map { .number(Int64($0)) } ?? .null)) }
        return .object([
            ("Platform", .string("Metal-QEMU-SNP")), ("ProductName", .string(product)),
            ("TrustedMeasurement", .string(simulatedMeasurement)), ("MinimumTCB", .object(tcb)),
            (
                "GuestPolicy",
                .object(
                    Manifest.guestPolicyOrder.map {
                        ($0, $0 == "SMT" ? .bool(true) : ($0.hasPrefix("ABI") ? .number(0) : .bool(false)))
                    }
                )
            ),
            ("PlatformInfo", .object(Manifest.platformInfoOrder.map { ($0, .bool(false)) })),
            ("MinimumMitigationVector", .number(0)), ("AllowedChipIDs", .null),
        ])
    }

    /// Parses `snphost show tcb` output and returns the Platform TCB block's values.
    public static func parseSNPHostTCB(_ text: String) throws(ContrastError) -> [String: Int] {
        var inPlatform = false
        var out: [String: Int] = [:]
        let names = [
            "Boot Loader": "BootloaderVersion", "TEE": "TEEVersion", "SNP": "SNPVersion",
            "Microcode": "MicrocodeVersion",
        ]
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.lowercased().hasPrefix("platform tcb") {
                inPlatform = true
                continue
            }
            if line.lowercased().hasSuffix("tcb:") || line.lowercased().hasSuffix("tcb") { inPlatform = false }
            guard inPlatform, let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if let field = names[key], let n = Int(value), (0...255).contains(n) { out[field] = n }
        }
        guard out.count == 4 else {
            throw ContrastError(
                "snphost output: no complete 'Platform TCB' block (need Boot Loader, TEE, SNP, Microcode)"
            )
        }
        return out
    }
}
