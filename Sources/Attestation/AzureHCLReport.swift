import Crypto

/// Azure's HCL report ("HCLA" magic): the SNP report at offset 0x20, the runtime-data JSON (with the vTPM key)
/// at 0x4C0 + 20 whose length is the u32 at 0x4C0 + 16. REPORT_DATA[0:32] must be SHA-256 of that JSON.
public struct AzureHCLReport: Sendable {
    /// The embedded SNP report.
    public let report: SNPReport
    /// The runtime data JSON bytes.
    public let runtimeData: [UInt8]

    /// Parses an HCL report.
    public init(_ bytes: [UInt8]) throws(EvidenceError) {
        guard bytes.count >= 0x4C0 + 20, bytes.starts(with: Array("HCLA".utf8)) else {
            throw EvidenceError("not an Azure HCL report (missing HCLA magic or too short)")
        }
        report = try SNPReport(Array(bytes[0x20..<(0x20 + SNPReport.size)]))
        let o = 0x4C0 + 16
        let length = Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16 | Int(bytes[o + 3]) << 24
        guard length >= 0, 0x4C0 + 20 + length <= bytes.count else { throw EvidenceError("HCL runtime data length \(length) out of range") }
        runtimeData = Array(bytes[(0x4C0 + 20)..<(0x4C0 + 20 + length)])
    }

    /// True when REPORT_DATA[0:32] binds the runtime data.
    public var runtimeDataBound: Bool {
        Array(report.reportData.prefix(32)) == SHA256.hash(runtimeData).bytes
    }
}
