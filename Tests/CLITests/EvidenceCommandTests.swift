import Attestation
import Foundation
import Testing

@Suite struct EvidenceCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("AttestationTests/Fixtures").path

    @Test func exitCodesAndChecks() throws {
        let dir = try TempDir()
        let f = Self.fixtures
        let debug = try CLI.run(
            [
                "evidence", "verify", "--snp-report", "\(f)/gosev_milan_v2_report.bin", "--cert",
                "\(f)/gosev_milan_v2_vcek.der",
            ],
            in: dir.path
        )
        #expect(debug.status == 1)
        #expect(
            debug.stdout.contains("FAIL guest policy forbids debugging — POLICY bit 19\nREJECTED: 1 check(s) failed\n")
        )
        let ok = try CLI.run(
            [
                "evidence", "verify", "--snp-report", "\(f)/trustee_milan_v2_report.bin", "--cert",
                "\(f)/trustee_milan_v2_vcek.der", "--json",
            ],
            in: dir.path
        )
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("\"accepted\":true"))
        let expired = try CLI.run(
            [
                "evidence", "verify", "--snp-report", "\(f)/trustee_milan_v3_vlek_report.bin", "--cert",
                "\(f)/trustee_milan_vlek.der",
            ],
            in: dir.path
        )
        #expect(expired.status == 1)
        #expect(
            expired.stdout.contains(
                "FAIL leaf certificate valid at the verification time — SEV-VLEK is valid 2024-12-10 – 2025-12-10"
            )
        )
        let earlier = try CLI.run(
            [
                "evidence", "verify", "--snp-report", "\(f)/trustee_milan_v3_vlek_report.bin", "--cert",
                "\(f)/trustee_milan_vlek.der",
                "--at", "2025-06-01T00:00:00Z",
            ],
            in: dir.path
        )
        #expect(earlier.status == 0)
        let tdx = try CLI.run(
            ["evidence", "verify", "--tdx-quote", "\(f)/gotdx_spr_e4_quote_v4.dat", "--at", "2023-07-01T00:00:00Z"],
            in: dir.path
        )
        #expect(tdx.status == 0, "\(tdx.stdout)")
        #expect(tdx.stdout.contains("ok   QE report data binds the attestation key"))
        try FileManager.default.createDirectory(atPath: dir.path + "/coll", withIntermediateDirectories: true)
        for name in [
            "gotdx_tcbinfo_fmspc50806f000000.json", "gotdx_qe_identity_2023.json",
            "intel_tcb_signing_chain_2018-2025.pem",
        ] {
            try FileManager.default.copyItem(atPath: "\(f)/\(name)", toPath: "\(dir.path)/coll/\(name)")
        }
        let outdated = try CLI.run(
            [
                "evidence", "verify", "--tdx-quote", "\(f)/gotdx_spr_e4_quote_v4.dat", "--collateral", "coll", "--at",
                "2023-07-01T00:00:00Z",
            ],
            in: dir.path
        )
        #expect(outdated.status == 1)
        #expect(outdated.stdout.contains("FAIL platform TCB level — no matching TCB level"))
        #expect(outdated.stdout.contains("ok   QE identity TCB level — UpToDate"))
        try dir.write("short.bin", "not a report")
        let unreadable = try CLI.run(
            ["evidence", "verify", "--snp-report", "short.bin", "--cert", "\(f)/gosev_milan_v2_vcek.der"],
            in: dir.path
        )
        #expect(unreadable.status == 2)
        #expect(unreadable.stderr == "contrast-pipe: unreadable evidence: SNP report is 12 bytes, expected 1184\n")
    }
}

@Suite struct ReferenceValueCommandTests {
    @Test func snpReferenceValuesAndPolicyHash() throws {
        let dir = try TempDir()
        let f = EvidenceCommandTests.fixtures
        let rv = """
            {"Policies": {"\(String(repeating: "0", count: 64))": {"SANs": ["a"], "Role": "coordinator"}},
             "ReferenceValues": {"snp": [{"ProductName": "Milan",
               "TrustedMeasurement": "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c",
               "MinimumTCB": {"BootloaderVersion": 3, "TEEVersion": 0, "SNPVersion": 8, "MicrocodeVersion": 115},
               "GuestPolicy": {"ABIMinor": 0, "ABIMajor": 0, "SMT": true, "Debug": false}}]}}
            """
        try dir.write("manifest.json", rv)
        let args = [
            "evidence", "verify", "--snp-report", "\(f)/trustee_milan_v2_report.bin", "--cert",
            "\(f)/trustee_milan_v2_vcek.der", "--reference-values", "manifest.json",
        ]
        let ok = try CLI.run(args, in: dir.path)
        #expect(ok.status == 0, "\(ok.stdout)")
        #expect(ok.stdout.contains("ok   snp[0].MinimumTCB.MicrocodeVersion — report 115, minimum 115"))
        #expect(ok.stdout.contains("ok   HOST_DATA is an allowed policy hash"))
        try dir.write(
            "manifest.json",
            rv.replacingOccurrences(of: "\"MicrocodeVersion\": 115", with: "\"MicrocodeVersion\": 116")
        )
        let low = try CLI.run(args + ["--report-data", String(repeating: "ab", count: 64)], in: dir.path)
        #expect(low.status == 1)
        #expect(low.stdout.contains("FAIL snp[0].MinimumTCB.MicrocodeVersion — report 115, minimum 116"))
        #expect(low.stdout.contains("FAIL REPORT_DATA equals the expected value"))
        #expect(low.stdout.contains("REJECTED: 2 check(s) failed"))
    }
}

@Suite struct SimulatedRootCommandTests {
    @Test func simulatedEvidenceNeedsTheExplicitFlagAndWarns() throws {
        let dir = try TempDir()
        let tee = try SimulatedTEE(directory: dir.path + "/tee")
        let report = try tee.report(
            measurement: Array(repeating: 1, count: 48),
            hostData: Array(repeating: 2, count: 32),
            reportData: []
        )
        try Data(report.raw).write(to: URL(fileURLWithPath: dir.path + "/report.bin"))
        try dir.write("chain.pem", try tee.ask.pem + tee.ark.pem)
        let base = ["evidence", "verify", "--snp-report", "report.bin", "--cert", "tee/vcek.pem"]
        let rejected = try CLI.run(base, in: dir.path)
        #expect(rejected.status == 1)
        #expect(rejected.stdout.contains("FAIL leaf signed by intermediate — SEV-Milan"))
        let accepted = try CLI.run(base + ["--insecure-simulated-root", "chain.pem"], in: dir.path)
        #expect(accepted.status == 0)
        #expect(accepted.stderr.hasPrefix("WARNING: trusting a SIMULATED attestation root (chain.pem)."))
    }
}
