import Attestation
import Crypto
import Foundation
import Testing

@Suite struct TDXQuoteTests {
    @Test(arguments: [
        ("gotdx_spr_e4_quote_v4.dat", UInt16(4), "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb", Int64(1_688_169_600)),
        ("gotdx_quote_v5_sample.dat", UInt16(5), "7348651a34b2d2d3462822e3a750ec6110125f36757c78480bbfc69cc0d21fb001a1ced3ee19747dda8f750c3bc8f876", Int64(1_770_076_800)),
        ("gotdx_gcp_cos113_quote_v4.dat", UInt16(4), "dae67181d3d65e073ad8f95b7907d5e927bfe9761c9ff3e9b89734a45d8954dba41394c7717cb2735396c1d04231f94a", Int64(1_735_689_600)),
    ])
    func realQuotesVerify(file: String, version: UInt16, mrtd: String, at: Int64) throws {
        let quote = try TDXQuote(try Fixture.bytes(file))
        #expect(quote.version == version)
        #expect(Fixture.hex(quote.mrTD) == mrtd)
        #expect(!quote.debug)
        var v = TDXVerifier()
        v.at = at
        let verdict = v.verify(quote)
        #expect(verdict.accepted, "\(verdict.failures)")
    }

    @Test func flippedReportDataBreaksTheSignature() throws {
        var bytes = try Fixture.bytes("gotdx_spr_e4_quote_v4.dat")
        bytes[0x30 + 0x208] ^= 1
        var v = TDXVerifier()
        v.at = 1_688_169_600
        #expect(v.verify(try TDXQuote(bytes)).failures.map(\.name) == ["quote signature (ECDSA P-256, SHA-256)"])
    }

    @Test func truncatedAndRandomQuotesAreErrors() throws {
        let good = try Fixture.bytes("gotdx_spr_e4_quote_v4.dat")
        for n in stride(from: 0, to: 1500, by: 7) {
            #expect((try? TDXQuote(Array(good.prefix(n)))) == nil)
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            var bytes = good
            for _ in 0..<8 { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            _ = try? TDXQuote(bytes)  // must not crash
        }
    }
}

@Suite struct TDXQuoteProtoTests {
    @Test(arguments: ["gotdx_spr_e4_quote_v4.dat", "gotdx_gcp_cos113_quote_v4.dat"])
    func quoteV4RoundTripVerifies(file: String) throws {
        let quote = try TDXQuote(try Fixture.bytes(file))
        let decoded = try TDXQuoteProto.decode(try TDXQuoteProto.encode(quote))
        #expect(decoded.signedBytes == quote.signedBytes)
        #expect(decoded.pckChainPEM == quote.pckChainPEM)
        var v = TDXVerifier()
        v.at = 1_735_689_600
        let verdict = v.verify(decoded)
        #expect(verdict.failures.allSatisfy { $0.name.contains("valid at the verification time") }, "\(verdict.failures)")
    }
}

@Suite struct PCKExtensionTests {
    @Test(arguments: [
        ("gotdx_spr_e4_quote_v4.dat", "50806f000000", 11, "03030202020100020000000000000000"),
        ("gotdx_quote_v5_sample.dat", "90c06f000000", 13, "04040202040100050000000000000000"),
        ("gotdx_gcp_cos113_quote_v4.dat", "00806f050000", 11, "07070202030100030000000000000000"),
    ])
    func fmspcPceAndCpuSvn(file: String, fmspc: String, pcesvn: Int, cpusvn: String) throws {
        let quote = try TDXQuote(try Fixture.bytes(file))
        let leaf = try Certificate.pemChain(quote.pckChainPEM)[0]
        let ext = try PCKExtensions(leaf)
        #expect(Fixture.hex(ext.fmspc) == fmspc)
        #expect(ext.pceSVN == pcesvn)
        #expect(Fixture.hex(ext.cpuSVN) == cpusvn)
        #expect(ext.tcbComponents.map { UInt8($0) } == Array(ext.cpuSVN))
        #expect(ext.pceID == [0, 0] && ext.sgxType == 1 && ext.ppid.count == 16)
    }
}

@Suite struct TDXCollateralTests {
    func chain() throws -> [Certificate] { try Certificate.pemChain(try Fixture.bytes("intel_tcb_signing_chain_2018-2025.pem")) }

    @Test func sprQuoteHasNoMatchingLevelButAnUpToDateQE() throws {
        let quote = try TDXQuote(try Fixture.bytes("gotdx_spr_e4_quote_v4.dat"))
        let collateral = try TDXCollateral(
            tcbInfo: try Fixture.bytes("gotdx_tcbinfo_fmspc50806f000000.json"), qeIdentity: try Fixture.bytes("gotdx_qe_identity_2023.json"))
        let verdict = collateral.verify(quote, signingChain: try chain(), at: 1_688_169_600)
        #expect(verdict.failures.map(\.name) == ["platform TCB level"])
        #expect(verdict.failures.first?.detail == "no matching TCB level")
        #expect(verdict.checks.first { $0.name == "QE identity TCB level" }?.detail == "UpToDate")
        #expect(verdict.checks.first { $0.name == "TCB info signature" }?.passed == true)
    }

    @Test func v5QuoteIsUpToDateOnPlatformAndModule() throws {
        let quote = try TDXQuote(try Fixture.bytes("gotdx_quote_v5_sample.dat"))
        let collateral = try TDXCollateral(tcbInfo: try Fixture.bytes("gotdx_tcbinfo_v5_fmspc90c06f000000.json"), qeIdentity: nil)
        let verdict = collateral.verify(quote, signingChain: try chain(), at: 1_770_076_800)
        #expect(verdict.accepted, "\(verdict.failures)")
        #expect(verdict.checks.first { $0.name == "platform TCB level" }?.detail == "UpToDate (2024-11-13T00:00:00Z)")
        #expect(verdict.checks.contains { $0.name == "TDX module TDX_01 TCB level" && $0.passed })
    }

    @Test func tamperedCollateralFailsItsSignature() throws {
        var bytes = try Fixture.bytes("gotdx_tcbinfo_fmspc50806f000000.json")
        let i = bytes.firstIndex(of: UInt8(ascii: "5"))!
        bytes[i] = UInt8(ascii: "6")
        let quote = try TDXQuote(try Fixture.bytes("gotdx_spr_e4_quote_v4.dat"))
        let verdict = try TDXCollateral(tcbInfo: bytes, qeIdentity: nil).verify(quote, signingChain: try chain(), at: 1_688_169_600)
        #expect(verdict.checks.first { $0.name == "TCB info signature" }?.passed == false)
    }
}

@Suite struct TrusteeTDXTests {
    @Test func v5QuoteWithServiceTDHasNoMatchingLevel() throws {
        let q = try TDXQuote(try Fixture.bytes("trustee_quote_v5.dat"))
        #expect(q.bodyType == 3)
        #expect(Fixture.hex(q.mrServiceTD ?? []) == "383c87d3bbb047b2d171eaca95312ede99f258088dc788f6ae2ccf8b6dd848fe8d47629e08b3f6cbd4a00dd47a5a033d")
        #expect(SHA256.hash(q.signedBytes).hex == "c2874ba05bd903acf23b28184000ea46a0ffa09b33208be623fbefe492fea6cd")
        var v = TDXVerifier()
        v.at = 1_735_689_600
        #expect(v.verify(q).accepted)
        let c = try TDXCollateral(tcbInfo: try Fixture.bytes("gotdx_tcbinfo_v5_fmspc90c06f000000.json"), qeIdentity: nil)
        let verdict = c.verify(q, signingChain: try Certificate.pemChain(try Fixture.bytes("intel_tcb_signing_chain_2018-2025.pem")), at: 1_735_689_600)
        #expect(verdict.failures.first?.name == "platform TCB level")
        #expect(verdict.failures.first?.detail == "no matching TCB level")
        #expect(verdict.checks.first { $0.name == "TCB info signature" }?.passed == true)
    }

    @Test func mrconfigidQuoteBothStatusRulesAndPolicyHash() throws {
        let q = try TDXQuote(try Fixture.bytes("trustee_quote_v4_mrconfigid.dat"))
        #expect(Fixture.hex(q.mrConfigID) == "889abf4718f037e38d74464c11e7c91a6e9890b5546409e1e7df9de7a51ca93152bf847bd2440328e90adb18b150ed67")
        #expect(q.raw.count - (q.signedLength + 4 + 4300) == 70)
        var v = TDXVerifier()
        v.at = 1_767_225_600  // 2026-01-01
        #expect(v.verify(q).accepted, "\(v.verify(q).failures)")
        // The 2025 documents verify with the 2018–2025 signing certificate's key.
        let c = try TDXCollateral(
            tcbInfo: try Fixture.bytes("trustee_tcbinfo_fmspc00a06d080000.json"), qeIdentity: try Fixture.bytes("trustee_qe_identity_2025.json"))
        let chain = try Certificate.pemChain(try Fixture.bytes("intel_tcb_signing_chain_2018-2025.pem"))
        let verdict = c.verify(q, signingChain: chain, at: 1_767_225_600)
        #expect(verdict.checks.first { $0.name == "TCB info signature" }?.passed == true)
        #expect(verdict.checks.first { $0.name == "QE identity signature" }?.passed == true)
        // Platform OutOfDate (combined rule rejects), module TDX_03 UpToDate (go-tdx-guest's module-only answer).
        #expect(verdict.checks.first { $0.name == "platform TCB level" }?.detail.hasPrefix("OutOfDate") == true)
        #expect(verdict.checks.first { $0.name == "TDX module TDX_03 TCB level" }?.passed == true)
        #expect(verdict.checks.first { $0.name == "QE identity TCB level" }?.detail == "UpToDate")
        // MRCONFIGID[0:32] is the policy hash Contrast checks.
        var policy = try ReferenceValuePolicy(json: Array("""
            {"tdx": [{"MrTd": "21e8dead92d6c69d7cbba79816686c03a48485c7df0c11f6f04792d5e1d378f6b8c46615ba6946adccac6becffbb1e88"}]}
            """.utf8))
        policy.allowedPolicyHashes = ["889abf4718f037e38d74464c11e7c91a6e9890b5546409e1e7df9de7a51ca931"]
        let checks = policy.check(q).checks
        #expect(checks.first { $0.name == "MRCONFIGID[0:32] is an allowed policy hash" }?.passed == true)
        #expect(checks.first { $0.name == "tdx[0].MrTd" }?.passed == true)
    }
}
