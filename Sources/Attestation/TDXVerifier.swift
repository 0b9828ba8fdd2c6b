import Crypto
import Foundation

/// Verifies Intel TDX quotes: the quote signature with the attestation key, the PCK chain to the pinned Intel
/// SGX Root CA, the QE report signature with the PCK leaf key, the QE report data binding of the attestation
/// key, certificate validity, and the default policy (TD debug forbidden). Collateral (TCB info, QE identity)
/// is not evaluated yet.
public struct TDXVerifier {
    /// SHA-256 of the Intel SGX Root CA's DER encoding.
    public static let rootPin = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"
    static let rootPEM = """
-----BEGIN CERTIFICATE-----
MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw
aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv
cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ
BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG
A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0
aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7
1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB
uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ
MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50
ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV
Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI
KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg
AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
-----END CERTIFICATE-----
"""

    /// The time at which certificates must be valid (seconds since 1970); nil = now.
    public var at: Int64?
    /// Reject TDs with the DEBUG attribute.
    public var forbidDebug = true

    /// Creates a verifier.
    public init() {}

    /// Verifies a quote.
    public func verify(_ quote: TDXQuote) -> Verdict {
        var v = Verdict()
        let signatureOK = (try? PublicKey(p256RawXY: quote.attestationKey))?.verifyECDSA(
            message: quote.signedBytes, r: quote.signatureR, s: quote.signatureS, hash: .sha256) ?? false
        v.add("quote signature (ECDSA P-256, SHA-256)", signatureOK)
        guard let chain = try? Certificate.pemChain(quote.pckChainPEM), chain.count == 3 else {
            v.add("PCK certificate chain", false, "expected leaf, intermediate and root in the quote")
            return v
        }
        let (leaf, intermediate, root) = (chain[0], chain[1], chain[2])
        let pinned = (try? Certificate.pemChain(Array(Self.rootPEM.utf8)))?.first
        v.add("root is the pinned Intel SGX Root CA", SHA256.hash(root.der).hex == Self.rootPin && pinned != nil, root.subjectCommonName ?? "")
        v.add("root is self-signed", root.isSigned(by: root))
        v.add("intermediate signed by root", intermediate.isSigned(by: root), intermediate.subjectCommonName ?? "")
        v.add("PCK leaf signed by intermediate", leaf.isSigned(by: intermediate), leaf.subjectCommonName ?? "")
        let now = at ?? Int64(time(nil))
        for (label, cert) in [("PCK leaf", leaf), ("intermediate", intermediate), ("root", root)] {
            let validity = cert.validity
            let valid = validity.map { $0.notBefore <= now && now <= $0.notAfter } ?? false
            v.add("\(label) certificate valid at the verification time", valid,
                valid ? "" : validity.map { "valid \(SNPVerifier.date($0.notBefore)) – \(SNPVerifier.date($0.notAfter))" } ?? "")
        }
        v.add(
            "QE report signature (PCK key)",
            leaf.verifyECDSA(message: quote.qeReport, r: quote.qeSignatureR, s: quote.qeSignatureS, hash: .sha256))
        let expected = SHA256.hash(quote.attestationKey + quote.qeAuthData).bytes + [UInt8](repeating: 0, count: 32)
        v.add("QE report data binds the attestation key", Array(quote.qeReport[0x140..<0x180]) == expected)
        if forbidDebug { v.add("TD attributes forbid debugging", !quote.debug, "TDATTRIBUTES bit 0") }
        return v
    }
}
