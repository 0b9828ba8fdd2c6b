import Crypto
import Foundation
import Testing

@Suite struct PKITests {
    @Test func hkdfRFC5869TestCase1() throws {
        let ikm = [UInt8](repeating: 0x0b, count: 22)
        let salt = Digest(hex: "000102030405060708090a0b0c")!.bytes
        let info = Digest(hex: "f0f1f2f3f4f5f6f7f8f9")!.bytes
        let okm = try HKDF.sha256(key: ikm, salt: salt, info: info, length: 42)
        #expect(Digest(bytes: okm).hex == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    }

    @Test func oaepRoundTripAndInteropWithOpenSSL() throws {
        let key = try PrivateKey.generate(.rsa(bits: 2048))
        let secret = Array("seed material".utf8)
        let ciphertext = try key.encryptOAEP(secret, label: Array("seedshare".utf8))
        #expect(try key.decryptOAEP(ciphertext, label: Array("seedshare".utf8)) == secret)
        #expect(throws: CryptoError.self) { try key.decryptOAEP(ciphertext, label: Array("other".utf8)) }
        // The real openssl CLI decrypts it with the same parameters.
        let dir = FileManager.default.temporaryDirectory.path + "/oaep-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(try key.traditionalPEM()).write(to: URL(fileURLWithPath: dir + "/key.pem"))
        try Data(ciphertext).write(to: URL(fileURLWithPath: dir + "/ct.bin"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = [
            "pkeyutl", "-decrypt", "-inkey", dir + "/key.pem", "-in", dir + "/ct.bin", "-pkeyopt", "rsa_padding_mode:oaep",
            "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256", "-pkeyopt",
            "rsa_oaep_label:" + Digest(bytes: Array("seedshare".utf8)).hex,
        ]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect([UInt8](data) == secret)
    }

    @Test func issueCAAndLeafWithSANsAndVerify() throws {
        let now: Int64 = 1_767_225_600  // 2026-01-01, a fixed clock
        let caKey = try PrivateKey.generate(.ecdsa(curve: "P-384"))
        var caT = CertificateTemplate(commonName: "Contrast Root CA", serial: 1, notBefore: now, notAfter: now + 86_400 * 365)
        caT.isCA = true
        let ca = try CertificateIssuer.issue(caT, subjectKey: caKey, issuer: nil, issuerKey: caKey, signature: .standard(.sha384))
        let leafKey = try PrivateKey.generate(.ecdsa(curve: "P-256"))
        var leafT = CertificateTemplate(commonName: "web", serial: 2, notBefore: now, notAfter: now + 86_400)
        leafT.subjectAltNames = ["DNS:web", "DNS:*", "IP:203.0.113.7", "URI:spiffe://contrast/web"]
        let leaf = try CertificateIssuer.issue(leafT, subjectKey: leafKey, issuer: ca, issuerKey: caKey)
        #expect(leaf.verify(root: ca, at: now + 60) == nil)
        #expect(leaf.verify(root: ca, at: now + 2 * 86_400) == "certificate has expired")
        #expect(leaf.isSigned(by: ca) && !ca.isSigned(by: leaf))
        let (r, s) = try leafKey.signECDSA(message: Array("hello".utf8), hash: .sha256, size: 32)
        #expect(leaf.verifyECDSA(message: Array("hello".utf8), r: r, s: s, hash: .sha256))
        #expect(!leaf.verifyECDSA(message: Array("hellO".utf8), r: r, s: s, hash: .sha256))
        // openssl x509 reads the SANs and EKU back.
        let dir = FileManager.default.temporaryDirectory.path + "/pki-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(leaf.pem.utf8).write(to: URL(fileURLWithPath: dir + "/leaf.pem"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["x509", "-in", dir + "/leaf.pem", "-noout", "-ext", "subjectAltName,extendedKeyUsage"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(text.contains("DNS:web, DNS:*, IP Address:203.0.113.7, URI:spiffe://contrast/web"))
        #expect(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
    }
}
