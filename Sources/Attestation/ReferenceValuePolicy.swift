public import Contrast
import Crypto

/// Checks evidence against Contrast reference values (manifest `ReferenceValues`, contrast-formats.md §1.3–1.4)
/// and the policy bindings Contrast relies on: HOST_DATA / MRCONFIGID[0:32] must be one of the allowed policy
/// hashes, and REPORT_DATA must equal an expected value when one is given.
public struct ReferenceValuePolicy: Sendable {
    /// `snp` entries (Contrast's JSON objects).
    public var snp: [JSONValue]
    /// `tdx` entries.
    public var tdx: [JSONValue]
    /// Allowed policy hashes (hex); empty = not checked.
    public var allowedPolicyHashes: Set<String> = []
    /// Expected REPORT_DATA (hex, 64 bytes); nil = not checked.
    public var expectedReportData: String?

    /// Reference values from a manifest (its Policies keys become the allowed hashes) or a
    /// `{"snp": [...], "tdx": [...]}` file.
    public init(json bytes: [UInt8]) throws {
        let v = try JSONValue.parse(bytes)
        let rv = v["ReferenceValues"] ?? v
        snp = rv["snp"]?.array ?? []
        tdx = rv["tdx"]?.array ?? []
        if case .object(let policies) = v["Policies"] ?? .null { allowedPolicyHashes = Set(policies.map(\.0)) }
        if snp.isEmpty && tdx.isEmpty { throw EvidenceError("reference values contain no snp or tdx entries") }
    }

    /// Reference values given directly (e.g. a parsed manifest's).
    public init(snp: [JSONValue], tdx: [JSONValue], allowedPolicyHashes: Set<String> = []) {
        self.snp = snp
        self.tdx = tdx
        self.allowedPolicyHashes = allowedPolicyHashes
    }

    /// SNP: the checks of the best-matching entry (all of them when one entry matches).
    public func check(_ r: SNPReport) -> Verdict {
        let candidates = snp.enumerated().map { (i, entry) in checkSNP(r, entry, index: i) }
        return Self.best(candidates, kind: "snp")
    }

    /// TDX: the checks of the best-matching entry.
    public func check(_ q: TDXQuote) -> Verdict {
        let candidates = tdx.enumerated().map { (i, entry) in checkTDX(q, entry, index: i) }
        return Self.best(candidates, kind: "tdx")
    }

    static func best(_ verdicts: [Verdict], kind: String) -> Verdict {
        guard let best = verdicts.min(by: { $0.failures.count < $1.failures.count }) else {
            var v = Verdict()
            v.add("reference values for \(kind)", false, "none given")
            return v
        }
        return best
    }

    private func common(_ v: inout Verdict, reportData: [UInt8], policyHash: [UInt8], field: String) {
        if !allowedPolicyHashes.isEmpty {
            let hash = Digest(bytes: policyHash).hex
            v.add("\(field) is an allowed policy hash", allowedPolicyHashes.contains(hash), hash)
        }
        if let expected = expectedReportData?.lowercased() {
            v.add("REPORT_DATA equals the expected value", Digest(bytes: reportData).hex == expected)
        }
    }

    private func checkSNP(_ r: SNPReport, _ e: JSONValue, index i: Int) -> Verdict {
        var v = Verdict()
        let p = "snp[\(i)]"
        if let name = e["ProductName"]?.string, !name.isEmpty {
            v.add(
                "\(p).ProductName",
                name.lowercased() == r.product.rawValue.lowercased(),
                "report from a \(r.product.rawValue) CPU"
            )
        }
        let measurement = Digest(bytes: r.measurement).hex
        v.add(
            "\(p).TrustedMeasurement",
            e["TrustedMeasurement"]?.string?.lowercased() == measurement,
            "report \(measurement)"
        )
        let tcb = r.reportedTCB
        for (field, have) in [
            ("BootloaderVersion", tcb.bootloader), ("TEEVersion", tcb.tee), ("SNPVersion", tcb.snp),
            ("MicrocodeVersion", tcb.microcode),
        ] {
            if let minimum = e["MinimumTCB"]?[field]?.number {
                v.add("\(p).MinimumTCB.\(field)", Int64(have) >= minimum, "report \(have), minimum \(minimum)")
            } else {
                v.add("\(p).MinimumTCB.\(field)", false, "expected missing: no minimum set")
            }
        }
        if let policy = e["GuestPolicy"] {
            let debug = policy["Debug"] == .bool(true)
            v.add("\(p).GuestPolicy.Debug", debug || !r.debugAllowed, "report allows debugging")
            let ma = policy["MigrateMA"] == .bool(true)
            v.add("\(p).GuestPolicy.MigrateMA", ma || !r.migrateMAAllowed, "")
            let abiMinor = policy["ABIMinor"]?.number ?? 0
            let abiMajor = policy["ABIMajor"]?.number ?? 0
            let abiOK = (Int64(r.abi.major), Int64(r.abi.minor)) >= (abiMajor, abiMinor)
            v.add(
                "\(p).GuestPolicy.ABI",
                abiOK,
                "report \(r.abi.major).\(r.abi.minor), minimum \(abiMajor).\(abiMinor)"
            )
        }
        if let chips = e["AllowedChipIDs"]?.array, !chips.isEmpty {
            let chip = Digest(bytes: r.chipID).hex
            v.add("\(p).AllowedChipIDs", chips.contains { $0.string?.lowercased() == chip }, chip)
        }
        if e["PlatformInfo"]?["SMTEnabled"] == .bool(false) && r.smtEnabled {
            v.add("\(p).PlatformInfo.SMTEnabled", false, "report has SMT enabled")
        }
        common(&v, reportData: r.reportData, policyHash: r.hostData, field: "HOST_DATA")
        return v
    }

    private func checkTDX(_ q: TDXQuote, _ e: JSONValue, index i: Int) -> Verdict {
        var v = Verdict()
        let p = "tdx[\(i)]"
        func hexEqual(_ name: String, _ value: [UInt8]) {
            let have = Digest(bytes: value).hex
            v.add("\(p).\(name)", e[name]?.string?.lowercased() == have, "quote \(have)")
        }
        hexEqual("MrTd", q.mrTD)
        if e["MrSeam"]?.string?.isEmpty == false {
            hexEqual("MrSeam", q.mrSeam)
        } else {
            v.add("\(p).MrSeam", false, "expected missing: no MrSeam set")
        }
        let rtmrs = e["Rtmrs"]?.array?.compactMap { $0.string?.lowercased() } ?? []
        v.add("\(p).Rtmrs", rtmrs == q.rtmrs.map { Digest(bytes: $0).hex }, "")
        // Contrast ignores the CET bits (11, 12) when comparing XFAM.
        let xfamBytes = (0..<8).map { UInt8(truncatingIfNeeded: q.xfam >> (8 * UInt64($0))) }
        let mask: UInt64 = ~((1 << 11) | (1 << 12))
        let expectedXfam = Digest(hex: e["Xfam"]?.string ?? "")?.bytes ?? []
        let expected =
            expectedXfam.count == 8
            ? expectedXfam.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) } : nil
        v.add(
            "\(p).Xfam",
            expected.map { $0 & mask == q.xfam & mask } ?? false,
            "quote \(Digest(bytes: xfamBytes).hex)"
        )
        v.add("\(p).TdAttributes.DEBUG", !q.debug, "")
        common(&v, reportData: q.reportData, policyHash: Array(q.mrConfigID.prefix(32)), field: "MRCONFIGID[0:32]")
        return v
    }
}
