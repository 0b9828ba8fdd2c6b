import Attestation
import Contrast
import Crypto
import Engine
import Foundation

/// `contrast-pipe evidence verify`.
enum EvidenceCommand {
    static func run(_ args: Arguments) throws -> Int32 {
        guard args.command.dropFirst().first == "verify" else {
            throw UsageError(message: "evidence needs a subcommand: verify")
        }
        func read(_ path: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw UsageError(message: "cannot read \(path)")
            }
            return [UInt8](data)
        }
        let at = try args.at.map { text throws -> Int64 in
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw UsageError(message: "--at needs an RFC 3339 time, got '\(text)'")
            }
            return Int64(date.timeIntervalSince1970)
        }
        var policy: ReferenceValuePolicy?
        if let path = args.referenceValues {
            do {
                policy = try ReferenceValuePolicy(json: try read(path))
            } catch let e as UsageError {
                throw e
            } catch {
                Output.err("contrast-pipe: unreadable reference values \(path): \(error)")
                return 2
            }
            policy?.expectedReportData = args.reportData
        }
        if let quotePath = args.tdxQuote {
            let quote: TDXQuote
            do {
                quote = try TDXQuote(try read(quotePath))
            } catch let e as UsageError {
                throw e
            } catch {
                Output.err("contrast-pipe: unreadable evidence: \(error)")
                return 2
            }
            var verifier = TDXVerifier()
            verifier.at = at
            var verdict = verifier.verify(quote)
            if let dir = args.collateral {
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
                let tcb = names.first { $0.lowercased().contains("tcbinfo") && $0.hasSuffix(".json") }
                let qe = names.first { $0.lowercased().contains("qe_identity") && $0.hasSuffix(".json") }
                let chainFile = names.first { $0.lowercased().contains("signing") && $0.hasSuffix(".pem") }
                guard let tcb, let chainFile else {
                    throw UsageError(
                        message: "--collateral \(dir) needs a *tcbinfo*.json and a *signing*.pem (TCB signing chain)"
                    )
                }
                do {
                    let collateral = try TDXCollateral(
                        tcbInfo: try read("\(dir)/\(tcb)"),
                        qeIdentity: try qe.map { try read("\(dir)/\($0)") }
                    )
                    let chain = try Certificate.pemChain(try read("\(dir)/\(chainFile)"))
                    verdict.checks +=
                        collateral.verify(quote, signingChain: chain, at: at ?? Int64(Date().timeIntervalSince1970))
                        .checks
                } catch let e as UsageError {
                    throw e
                } catch {
                    Output.err("contrast-pipe: unreadable collateral: \(error)")
                    return 2
                }
            }
            if let policy { verdict.checks += policy.check(quote).checks }
            let hex: ([UInt8]) -> String = { Digest(bytes: $0).hex }
            return Self.report(
                verdict,
                fields: [
                    ("version", "\(quote.version)"), ("body", quote.bodyType == 3 ? "TDX 1.5" : "TDX 1.0"),
                    ("mr_td", hex(quote.mrTD)), ("mr_seam", hex(quote.mrSeam)), ("mr_config_id", hex(quote.mrConfigID)),
                    ("rtmr0", hex(quote.rtmrs[0])), ("rtmr1", hex(quote.rtmrs[1])), ("rtmr2", hex(quote.rtmrs[2])),
                    ("rtmr3", hex(quote.rtmrs[3])), ("td_attributes", "0x" + String(quote.tdAttributes, radix: 16)),
                    ("xfam", "0x" + String(quote.xfam, radix: 16)), ("report_data", hex(quote.reportData)),
                ],
                json: args.json
            )
        }
        guard let reportPath = args.snpReport else {
            throw UsageError(message: "evidence verify needs --snp-report FILE or --tdx-quote FILE")
        }
        guard let certPath = args.certificate else { throw UsageError(message: "evidence verify needs --cert FILE") }
        var product: SNPReport.Product?
        if let p = args.product {
            guard let parsed = SNPReport.Product(name: p) else {
                throw UsageError(message: "unknown product '\(p)' (milan, genoa or turin)")
            }
            product = parsed
        }
        let report: SNPReport
        let leaf: Certificate
        var chain: [Certificate]
        do {
            report = try SNPReport(try read(reportPath), product: product)
            let certBytes = try read(certPath)
            leaf =
                certBytes.starts(with: Array("-----".utf8))
                ? try Certificate.pemChain(certBytes)[0] : try Certificate(der: certBytes)
            if let simulated = args.simulatedRoot {
                Output.err(
                    "WARNING: trusting a SIMULATED attestation root (\(simulated)). Evidence accepted against it proves "
                        + "nothing about real hardware. Never use --insecure-simulated-root outside local tests."
                )
                chain = try Certificate.pemChain(try read(simulated))
            } else if let chainPath = args.chain {
                chain = try Certificate.pemChain(try read(chainPath))
            } else {
                guard let pinned = AMDRoots.chain(report.product, vlek: leaf.subjectCommonName == "SEV-VLEK") else {
                    throw UsageError(
                        message: "the built-in AMD chain for \(report.product.rawValue) does not match its pin"
                    )
                }
                chain = pinned
            }
        } catch let e as UsageError {
            throw e
        } catch {
            Output.err("contrast-pipe: unreadable evidence: \(error)")
            return 2
        }
        var verifier = SNPVerifier(chain: chain)
        verifier.at = at
        // With reference values, their GuestPolicy decides about debugging.
        if let policy, policy.snp.contains(where: { $0["GuestPolicy"]?["Debug"] == .bool(true) }) {
            verifier.forbidDebug = false
        }
        var verdict = verifier.verify(report, leaf: leaf)
        if let policy { verdict.checks += policy.check(report).checks }
        let hex: ([UInt8]) -> String = { Digest(bytes: $0).hex }
        let fields: [(String, String)] = [
            ("version", "\(report.version)"), ("product", report.product.rawValue), ("guest_svn", "\(report.guestSVN)"),
            (
                "policy",
                "0x" + String(report.policy, radix: 16)
                    + " (ABI \(report.abi.major).\(report.abi.minor), debug \(report.debugAllowed ? "allowed" : "forbidden"))"
            ),
            ("vmpl", "\(report.vmpl)"), ("signing_key", report.signingKey == 1 ? "VLEK" : "VCEK"),
            ("measurement", hex(report.measurement)), ("host_data", hex(report.hostData)),
            ("report_data", hex(report.reportData)), ("chip_id", hex(report.chipID)),
            (
                "reported_tcb",
                "bl=\(report.reportedTCB.bootloader) tee=\(report.reportedTCB.tee) snp=\(report.reportedTCB.snp) ucode=\(report.reportedTCB.microcode)"
            ),
        ]
        return Self.report(verdict, fields: fields, json: args.json)
    }

    /// Prints the fields and every check; 0 when accepted, 1 when rejected.
    static func report(_ verdict: Verdict, fields: [(String, String)], json: Bool) -> Int32 {
        if json {
            JSONReporter.emit([
                "accepted": verdict.accepted, "fields": Dictionary(uniqueKeysWithValues: fields),
                "checks": verdict.checks.map {
                    ["name": $0.name, "passed": $0.passed, "detail": $0.detail] as [String: Any]
                },
            ])
        } else {
            for (k, v) in fields { Output.out("\(k.padding(toLength: 13, withPad: " ", startingAt: 0)) \(v)") }
            Output.out("")
            for c in verdict.checks {
                Output.out("\(c.passed ? "ok  " : "FAIL") \(c.name)\(c.detail.isEmpty ? "" : " — \(c.detail)")")
            }
            Output.out(verdict.accepted ? "ACCEPTED" : "REJECTED: \(verdict.failures.count) check(s) failed")
        }
        return verdict.accepted ? 0 : 1
    }
}
