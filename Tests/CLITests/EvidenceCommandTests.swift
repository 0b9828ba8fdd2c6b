import Foundation
import Testing

@Suite struct EvidenceCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("AttestationTests/Fixtures").path

    @Test func exitCodesAndChecks() throws {
        let dir = try TempDir()
        let f = Self.fixtures
        let debug = try CLI.run(
            ["evidence", "verify", "--snp-report", "\(f)/gosev_milan_v2_report.bin", "--cert", "\(f)/gosev_milan_v2_vcek.der"],
            in: dir.path)
        #expect(debug.status == 1)
        #expect(debug.stdout.contains("FAIL guest policy forbids debugging — POLICY bit 19\nREJECTED: 1 check(s) failed\n"))
        let ok = try CLI.run(
            ["evidence", "verify", "--snp-report", "\(f)/trustee_milan_v2_report.bin", "--cert", "\(f)/trustee_milan_v2_vcek.der", "--json"],
            in: dir.path)
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("\"accepted\":true"))
        let expired = try CLI.run(
            ["evidence", "verify", "--snp-report", "\(f)/trustee_milan_v3_vlek_report.bin", "--cert", "\(f)/trustee_milan_vlek.der"],
            in: dir.path)
        #expect(expired.status == 1)
        #expect(expired.stdout.contains("FAIL leaf certificate valid at the verification time — SEV-VLEK is valid 2024-12-10 – 2025-12-10"))
        let earlier = try CLI.run(
            ["evidence", "verify", "--snp-report", "\(f)/trustee_milan_v3_vlek_report.bin", "--cert", "\(f)/trustee_milan_vlek.der",
             "--at", "2025-06-01T00:00:00Z"],
            in: dir.path)
        #expect(earlier.status == 0)
        let tdx = try CLI.run(
            ["evidence", "verify", "--tdx-quote", "\(f)/gotdx_spr_e4_quote_v4.dat", "--at", "2023-07-01T00:00:00Z"], in: dir.path)
        #expect(tdx.status == 0, "\(tdx.stdout)")
        #expect(tdx.stdout.contains("ok   QE report data binds the attestation key"))
        try dir.write("short.bin", "not a report")
        let unreadable = try CLI.run(["evidence", "verify", "--snp-report", "short.bin", "--cert", "\(f)/gosev_milan_v2_vcek.der"], in: dir.path)
        #expect(unreadable.status == 2)
        #expect(unreadable.stderr == "contrast-pipe: unreadable evidence: SNP report is 12 bytes, expected 1184\n")
    }
}
