import Attestation
import Crypto
import Foundation
import Testing

enum Fixture {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func bytes(_ name: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: "\(dir)/\(name)") else { throw EvidenceError("missing fixture \(name)") }
        return [UInt8](data)
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

@Suite struct SNPReportTests {
    @Test func parsesGoSevGuestMilanV2() throws {
        let r = try SNPReport(try Fixture.bytes("gosev_milan_v2_report.bin"))
        #expect(r.version == 2)
        #expect(r.guestSVN == 0)
        #expect(r.policy == 0xb0000)
        #expect(r.debugAllowed && r.smtAllowed && r.abi == (0, 0))
        #expect(r.vmpl == 0 && r.signatureAlgorithm == 1)
        #expect(r.currentTCB.raw == 0x4405000000000002)
        #expect((r.reportedTCB.bootloader, r.reportedTCB.tee, r.reportedTCB.snp, r.reportedTCB.microcode) == (2, 0, 5, 68))
        #expect(r.platformInfo == 1 && r.signerInfo == 0)
        #expect(Fixture.hex(r.reportData) == "0102030405" + String(repeating: "00", count: 59))
        #expect(Fixture.hex(r.measurement) == "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01")
        #expect(Fixture.hex(r.reportID) == "8edc638e1857c555d21f6b11bda3c8b1b5a09dba4852b4c8ee7aa2f16f22cc0a")
        #expect(r.reportIDMA.allSatisfy { $0 == 0xff })
        #expect(Fixture.hex(r.chipID) == "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d")
        #expect(r.currentVersion == (1, 49, 3) && r.committedVersion == (1, 49, 3))
        #expect(Fixture.hex(r.signatureR) == "21c89c9932a2504bd2a590c9c21a32bbba083b2dd6e5bc7438896bf672ae1353aa5fa6bbb6274fca69f9f8b85a8b8e4f")
        #expect(Fixture.hex(r.signatureS) == "e0105d55989411f6ec1b31c97f152cdb0ae9d78b4276f847f4167e0b0265bd348f5fa104301cf9b6b66695a06b2489e6")
        #expect(SHA384.hash(r.signedBytes).hex == "2241aba7c08be142e1b66585376539b6d16fa8dafd185f7b9ccdaf4e9d8551e51bcef29cf32ad0b913fb2af3f49196ae")
        #expect(r.product == .milan)
    }

    func verifier(_ chain: String) throws -> SNPVerifier {
        SNPVerifier(chain: try Certificate.pemChain(try Fixture.bytes("amd-ca/\(chain)")))
    }

    @Test func verifiesSignatureChainAndExtensionsButRejectsDebug() throws {
        let r = try SNPReport(try Fixture.bytes("gosev_milan_v2_report.bin"))
        let vcek = try Certificate(der: try Fixture.bytes("gosev_milan_v2_vcek.der"))
        let verdict = try verifier("ask_ark_milan.pem").verify(r, leaf: vcek)
        #expect(verdict.failures.map(\.name) == ["guest policy forbids debugging"])
        var allowDebug = try verifier("ask_ark_milan.pem")
        allowDebug.forbidDebug = false
        #expect(allowDebug.verify(r, leaf: vcek).accepted)
    }

    @Test func anotherChipsVCEKAndTheWrongProductChainAreRejected() throws {
        let r = try SNPReport(try Fixture.bytes("gosev_milan_v2_report.bin"))
        var v = try verifier("ask_ark_milan.pem")
        v.forbidDebug = false
        let other = try Certificate(der: try Fixture.bytes("trustee_milan_v2_vcek.der"))
        let verdict = v.verify(r, leaf: other)
        #expect(!verdict.accepted)
        #expect(verdict.failures.contains { $0.name == "report signature (ECDSA P-384, SHA-384)" })
        #expect(verdict.failures.contains { $0.name == "certificate hwID equals CHIP_ID" })
        var genoa = try verifier("ask_ark_genoa.pem")
        genoa.forbidDebug = false
        let wrongChain = genoa.verify(r, leaf: try Certificate(der: try Fixture.bytes("gosev_milan_v2_vcek.der")))
        #expect(wrongChain.failures.map(\.name) == ["leaf signed by intermediate"])
    }

    @Test func trusteeReportVerifiesWithItsVCEK() throws {
        let r = try SNPReport(try Fixture.bytes("trustee_milan_v2_report.bin"))
        #expect(r.guestSVN == 4 && r.policy == 0x3001f && !r.debugAllowed && r.abi == (0, 31))
        let verdict = try verifier("ask_ark_milan.pem").verify(r, leaf: try Certificate(der: try Fixture.bytes("trustee_milan_v2_vcek.der")))
        #expect(verdict.accepted, "\(verdict.failures)")
    }

    @Test func everySignedByteFlipIsRejected() throws {
        let original = try Fixture.bytes("gosev_milan_v2_report.bin")
        let vcek = try Certificate(der: try Fixture.bytes("gosev_milan_v2_vcek.der"))
        var rejected = 0
        for i in 0..<SNPReport.signedSize {
            var bytes = original
            bytes[i] ^= 0x01
            // A flip may also make the report unparsable (version, algorithm): that is a rejection too.
            guard let r = try? SNPReport(bytes) else {
                rejected += 1
                continue
            }
            if !vcek.verifyECDSA(message: r.signedBytes, r: r.signatureR, s: r.signatureS, hash: .sha384) { rejected += 1 }
        }
        #expect(rejected == SNPReport.signedSize)
        // Flips in the reserved trailer are rejected by the verifier's trailer check.
        var v = SNPVerifier(chain: try Certificate.pemChain(try Fixture.bytes("amd-ca/ask_ark_milan.pem")))
        v.forbidDebug = false
        for i in stride(from: 0x330, to: SNPReport.size, by: 37) {
            var bytes = original
            bytes[i] ^= 0x80
            #expect(!v.verify(try SNPReport(bytes), leaf: vcek).accepted)
        }
    }

    @Test func truncatedAndRandomInputsAreErrorsNotCrashes() {
        var rng = SystemRandomNumberGenerator()
        var errors = 0
        for n in 0..<2000 {
            let length = n % 3 == 0 ? Int.random(in: 0..<SNPReport.size, using: &rng) : SNPReport.size
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if (try? SNPReport(bytes)) == nil { errors += 1 }
        }
        #expect(errors > 1900)
    }
}

@Suite struct SNPVectorTests {
    func chain(_ name: String) throws -> [Certificate] { try Certificate.pemChain(try Fixture.bytes("amd-ca/\(name)")) }

    @Test func vlekReportVerifiesInsideTheValidityWindowOnly() throws {
        let r = try SNPReport(try Fixture.bytes("trustee_milan_v3_vlek_report.bin"))
        #expect(r.version == 3 && r.vmpl == 1 && r.signingKey == 1 && r.platformInfo == 0x27 && r.product == .milan)
        #expect(r.chipID.allSatisfy { $0 == 0 })
        #expect((r.reportedTCB.bootloader, r.reportedTCB.snp, r.reportedTCB.microcode) == (4, 24, 217))
        let vlek = try Certificate(der: try Fixture.bytes("trustee_milan_vlek.der"))
        var v = SNPVerifier(chain: try chain("ask_ark_milan_vlek.pem"))
        v.at = 1_748_736_000  // 2025-06-01
        #expect(v.verify(r, leaf: vlek).accepted, "\(v.verify(r, leaf: vlek).failures)")
        v.at = 1_796_342_400  // 2026-12-04
        let expired = v.verify(r, leaf: vlek)
        #expect(expired.failures.map(\.name) == ["leaf certificate valid at the verification time"])
        #expect(expired.failures[0].detail == "SEV-VLEK is valid 2024-12-10 – 2025-12-10")
        var wrongChain = SNPVerifier(chain: try chain("ask_ark_milan.pem"))
        wrongChain.at = 1_748_736_000
        #expect(wrongChain.verify(r, leaf: vlek).failures.map(\.name) == ["leaf signed by intermediate"])
    }

    @Test func azureGenoaV3() throws {
        let r = try SNPReport(try Fixture.bytes("azure_genoa_v3_report.bin"))
        #expect(r.product == .genoa && r.guestSVN == 0x1000b && r.platformInfo == 0x24)
        #expect((r.reportedTCB.bootloader, r.reportedTCB.snp, r.reportedTCB.microcode) == (10, 23, 84))
        let vcek = try Certificate.pemChain(try Fixture.bytes("azure_genoa_vcek.pem"))[0]
        let verdict = SNPVerifier(chain: try chain("ask_ark_genoa.pem")).verify(r, leaf: vcek)
        #expect(verdict.accepted, "\(verdict.failures)")
    }

    @Test func turinVCEKExtensionsAndChain() throws {
        let vcek = try Certificate(der: try Fixture.bytes("virtee_turin_vcek.der"))
        let ext = VCEKExtensions(vcek)
        #expect(ext.productName == "Turin" && ext.fmc == 0 && ext.ucode == 9 && ext.bl == 0)
        #expect(ext.hwID.map(Fixture.hex) == "1e550a8ee5cf9f4d")
        let c = try chain("ask_ark_turin_vcek.pem")
        #expect(vcek.isSigned(by: c[0]) && c[0].isSigned(by: c[1]) && c[1].isSigned(by: c[1]))
    }

    @Test func badSignatureVCEKsDoNotChain() throws {
        let ask = try chain("ask_ark_milan.pem")[0]
        for name in ["trustee_negative_vcek_badsig_legacy_hwid.der", "trustee_negative_vcek_badsig_octetstring_hwid.der"] {
            let cert = try Certificate(der: try Fixture.bytes(name))
            #expect(!cert.isSigned(by: ask))
            #expect(VCEKExtensions(cert).hwID == Array(0..<64))
        }
    }
}

@Suite struct AMDRootsTests {
    @Test(arguments: [SNPReport.Product.milan, .genoa, .turin])
    func pinnedChainsVerify(product: SNPReport.Product) throws {
        for vlek in [false, true] {
            let chain = try #require(AMDRoots.chain(product, vlek: vlek))
            #expect(chain[1].subjectCommonName == "ARK-\(product.rawValue)")
            #expect(chain[0].subjectCommonName == (vlek ? "SEV-VLEK-\(product.rawValue)" : "SEV-\(product.rawValue)"))
            #expect(chain[0].isSigned(by: chain[1]) && chain[1].isSigned(by: chain[1]))
        }
    }
}

@Suite struct ProtobufEvidenceTests {
    @Test(arguments: ["gosev_milan_v2_report.bin", "trustee_milan_v2_report.bin", "trustee_milan_v3_vlek_report.bin", "azure_genoa_v3_report.bin"])
    func roundTripThroughTheAttestationMessage(file: String) throws {
        let report = try SNPReport(try Fixture.bytes(file))
        let vcek = try Fixture.bytes("gosev_milan_v2_vcek.der")
        let message = SNPAttestation.encode(report, vcek: vcek, product: report.product)
        let decoded = try SNPAttestation(protobuf: message)
        #expect(decoded.report.raw == report.raw)
        #expect(decoded.vcek == vcek)
        #expect(decoded.product == report.product)
    }

    @Test func malformedMessagesAreErrors() {
        #expect(throws: EvidenceError.self) { try SNPAttestation(protobuf: [0x0a, 0xff]) }
        #expect(throws: EvidenceError.self) { try SNPAttestation(protobuf: []) }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? SNPAttestation(protobuf: bytes)
        }
    }
}

@Suite struct AzureHCLTests {
    @Test func runtimeDataIsBoundIntoReportData() throws {
        let hcl = try AzureHCLReport(try Fixture.bytes("azure_genoa_hcl_report.bin"))
        #expect(hcl.runtimeData.count == 1200)
        #expect(hcl.runtimeDataBound)
        #expect(hcl.report.raw == (try Fixture.bytes("azure_genoa_v3_report.bin")))
        var tampered = try Fixture.bytes("azure_genoa_hcl_report.bin")
        tampered[0x4C0 + 20 + 10] ^= 1
        #expect(!(try AzureHCLReport(tampered)).runtimeDataBound)
        #expect(throws: EvidenceError.self) { try AzureHCLReport(Array(repeating: 0, count: 100)) }
    }
}
