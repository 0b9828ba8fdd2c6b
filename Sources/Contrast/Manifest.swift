import Foundation

/// Contrast's manifest.json, kept as ordered JSON and written exactly like `contrast generate` writes it
/// (Go struct field order, map keys sorted, two-space indent, trailing newline).
public struct Manifest: Sendable, Equatable {
    /// One Policies entry.
    public struct PolicyEntry: Sendable, Equatable {
        /// Subject alternative names.
        public var sans: [String]
        /// Workload secret ID.
        public var workloadSecretID: String
        /// "" or "coordinator".
        public var role: String

        /// Creates an entry.
        public init(sans: [String], workloadSecretID: String, role: String) {
            self.sans = sans
            self.workloadSecretID = workloadSecretID
            self.role = role
        }
    }

    /// Policy hash (hex SHA-256 of the initdata TOML) → entry.
    public var policies: [String: PolicyEntry] = [:]
    /// `snp` reference values, as JSON objects in Contrast's field order.
    public var snp: [JSONValue] = []
    /// `tdx` reference values.
    public var tdx: [JSONValue] = []
    /// hex SHA-256 of each workload owner's PKIX public key, sorted.
    public var workloadOwnerKeyDigests: [String] = []
    /// hex PKCS#1 DER of each seed-share owner's RSA public key, sorted.
    public var seedshareOwnerPubKeys: [String] = []

    /// An empty manifest.
    public init() {}

    static let snpOrder = [
        "Platform", "ProductName", "TrustedMeasurement", "MinimumTCB", "GuestPolicy", "PlatformInfo",
        "MinimumMitigationVector", "AllowedChipIDs", "APEIP", "CPUs",
    ]
    static let tcbOrder = ["BootloaderVersion", "TEEVersion", "SNPVersion", "MicrocodeVersion"]
    static let guestPolicyOrder = [
        "ABIMinor", "ABIMajor", "SMT", "MigrateMA", "Debug", "SingleSocket", "CXLAllowed", "MemAES256XTS", "RAPLDis",
        "CipherTextHidingDRAM", "PageSwapDisable",
    ]
    static let platformInfoOrder = [
        "SMTEnabled", "TSMEEnabled", "ECCEnabled", "RAPLDisabled", "CiphertextHidingDRAMEnabled", "AliasCheckComplete",
        "TIOEnabled",
    ]
    /// TDXReferenceValues field order.
    public static let tdxOrder = [
        "Platform", "MinTCBEvaluationDataNumber", "MrTd", "MrSeam", "Rtmrs", "Xfam", "AllowedPIIDs", "MemoryIntegrity",
        "SMTDisabled", "StaticPlatform", "CPUs",
    ]

    /// Puts an SNP entry (and its nested objects) in Contrast's field order.
    public static func orderSNP(_ v: JSONValue) -> JSONValue {
        guard case .object(let members) = v.ordered(snpOrder) else { return v }
        return .object(
            members.map { key, value in
                switch key {
                case "MinimumTCB": (key, value.ordered(tcbOrder))
                case "GuestPolicy": (key, value.ordered(guestPolicyOrder))
                case "PlatformInfo": (key, value.ordered(platformInfoOrder))
                default: (key, value)
                }
            })
    }

    /// Parses manifest.json (reference values are re-ordered into Contrast's field order).
    public init(json data: [UInt8]) throws {
        let v = try JSONValue.parse(data)
        guard case .object = v else { throw ContrastError("manifest.json: expected a JSON object") }
        if case .object(let policies) = v["Policies"] ?? .null {
            for (hash, entry) in policies {
                self.policies[hash] = PolicyEntry(
                    sans: entry["SANs"]?.array?.compactMap(\.string) ?? [],
                    workloadSecretID: entry["WorkloadSecretID"]?.string ?? "", role: entry["Role"]?.string ?? "")
            }
        }
        snp = (v["ReferenceValues"]?["snp"]?.array ?? []).map(Manifest.orderSNP)
        tdx = (v["ReferenceValues"]?["tdx"]?.array ?? []).map { $0.ordered(Manifest.tdxOrder) }
        workloadOwnerKeyDigests = v["WorkloadOwnerKeyDigests"]?.array?.compactMap(\.string) ?? []
        seedshareOwnerPubKeys = v["SeedshareOwnerPubKeys"]?.array?.compactMap(\.string) ?? []
    }

    /// The file text.
    public func json() -> String {
        var policyMembers: [(String, JSONValue)] = []
        for hash in policies.keys.sorted() {
            let p = policies[hash]!
            var entry: [(String, JSONValue)] = [("SANs", .array(p.sans.map { .string($0) }))]
            if !p.workloadSecretID.isEmpty { entry.append(("WorkloadSecretID", .string(p.workloadSecretID))) }
            if !p.role.isEmpty { entry.append(("Role", .string(p.role))) }
            policyMembers.append((hash, .object(entry)))
        }
        var reference: [(String, JSONValue)] = []
        if !snp.isEmpty { reference.append(("snp", .array(snp))) }
        if !tdx.isEmpty { reference.append(("tdx", .array(tdx))) }
        func list(_ items: [String]) -> JSONValue { items.isEmpty ? .null : .array(items.sorted().map { .string($0) }) }
        return JSONValue.object([
            ("Policies", .object(policyMembers)), ("ReferenceValues", .object(reference)),
            ("WorkloadOwnerKeyDigests", list(workloadOwnerKeyDigests)),
            ("SeedshareOwnerPubKeys", list(seedshareOwnerPubKeys)),
        ]).indented()
    }
}

extension Manifest {
    /// The MinimumTCB fields, in Contrast's order.
    public static let tcbFields = tcbOrder

    /// Fills null MinimumTCB fields of an SNP entry from `tcb`.
    public static func fillMinimumTCB(_ entry: JSONValue, _ tcb: [String: Int]) -> JSONValue {
        let current = entry["MinimumTCB"] ?? .object([])
        var members: [(String, JSONValue)] = []
        for field in tcbOrder {
            if let n = current[field]?.number { members.append((field, .number(n))) } else {
                members.append((field, tcb[field].map { .number(Int64($0)) } ?? .null))
            }
        }
        return setField(entry, "MinimumTCB", .object(members), order: snpOrder)
    }

    /// Sets one member of an object, keeping `order`.
    public static func setField(_ entry: JSONValue, _ key: String, _ value: JSONValue, order: [String]) -> JSONValue {
        guard case .object(var members) = entry else { return entry }
        if let i = members.firstIndex(where: { $0.0 == key }) { members[i].1 = value } else { members.append((key, value)) }
        return JSONValue.object(members).ordered(order)
    }
}
