import Attestation
import Crypto
import Foundation
import Testing

@Suite struct SimulatedTEETests {
    @Test func roundTripAcceptedOnlyWithTheSimulatedRoot() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/sim-tee-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tee = try SimulatedTEE(directory: dir)
        let hostData = SHA256.hash(string: "initdata").bytes
        let report = try tee.report(
            measurement: SHA384.hash(Array("guest".utf8)).bytes,
            hostData: hostData,
            reportData: Array(repeating: 7, count: 64)
        )
        #expect(report.hostData == hostData)
        #expect(report.product == .milan && report.version == 3)
        // With the simulated root configured: every check passes through the real verifier.
        let trusted = SNPVerifier(chain: try tee.chain).verify(report, leaf: try tee.vcek)
        #expect(trusted.accepted, "\(trusted.failures)")
        // Against AMD's pinned Milan chain it is rejected, with the reason.
        let amd = SNPVerifier(chain: try #require(AMDRoots.chain(.milan, vlek: false))).verify(
            report,
            leaf: try tee.vcek
        )
        #expect(amd.failures.map(\.name) == ["leaf signed by intermediate"])
        // The state persists: a second instance signs with the same VCEK.
        let again = try SimulatedTEE(directory: dir)
        #expect(again.vcekDER == tee.vcekDER)
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/vcek-key.pem")
        #expect(attrs[.posixPermissions] as? Int == 0o600)
        // The simulated chain verifies with OpenSSL's path validation too.
        #expect(
            try tee.vcek.verify(
                root: try tee.ark,
                intermediates: [try tee.ask],
                at: Int64(Date().timeIntervalSince1970)
            ) == nil
        )
    }

    @Test(arguments: [SNPReport.Product.milan, .genoa, .turin])
    func everyGenerationVerifiesWithItsChain(product: SNPReport.Product) throws {
        let dir = FileManager.default.temporaryDirectory.path + "/cp-tee-\(product.rawValue)-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tee = try SimulatedTEE(directory: dir, product: product)
        let report = try tee.report(
            measurement: Array(repeating: 1, count: 48),
            hostData: Array(repeating: 2, count: 32),
            reportData: [3]
        )
        #expect(report.product == product)
        #expect(
            report.reportedTCB.snp == 8 && report.reportedTCB.microcode == 115 && report.reportedTCB.bootloader == 3
        )
        #expect(report.reportedTCB.fmc == (product == .turin ? 0 : nil))
        #expect(try tee.ark.subjectCommonName == "ARK-\(product.rawValue)")
        let verdict = SNPVerifier(chain: try tee.chain).verify(report, leaf: try tee.vcek)
        #expect(verdict.accepted, "\(verdict.failures)")
        // The protobuf evidence names the generation too, and decodes to the same report.
        let decoded = try SNPAttestation(protobuf: SNPAttestation.encode(report, vcek: tee.vcekDER, product: product))
        #expect(decoded.report.raw == report.raw && decoded.product == product)
        // Reopening keeps the generation; asking for another is refused.
        #expect(try SimulatedTEE(directory: dir).product == product)
        #expect(throws: EvidenceError.self) {
            try SimulatedTEE(directory: dir, product: product == .milan ? .genoa : .milan)
        }
    }
}
