import Foundation

/// A usage error: printed with a hint to `--help`, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Parsed command line: the command words, global options and the remaining positional arguments.
struct Arguments {
    var command: [String] = []
    var positional: [String] = []
    var file = "contrast.pipeline.yaml"
    var fileGiven = false
    var directory: String?
    var jobs: Int?
    var keepGoing = false
    var force: [String] = []
    var json = false
    var quiet = false
    var noWait = false
    var help = false
    var maxSize: String?
    var cacheDir: String?
    var diffs: [String] = []
    var fuzz: Int?
    var output: String?
    var referenceValues: String?
    var snpReport: String?
    var tdxQuote: String?
    var reportData: String?
    var simulatedRoot: String?
    var collateral: String?
    var certificate: String?
    var chain: String?
    var product: String?
    var at: String?
    var manifest: String?
    var coordinator: String?
    var listen: String?
    var state: String?
    var simulatedTEE = false
    var initdata: String?
    var out: String?
    var workspace: String?
    var seedshareKey: String?
    var seedShares: String?
    var ephemeralSeed = false
    var retrySeconds: Int?
    var tlsCert: String?
    var tlsKey: String?
    var tlsCA: String?

    /// Commands that take a sub-command word.
    static let commandsWithSub: Set<String> = ["cache", "evidence", "coordinator"]

    init(_ argv: [String]) throws(UsageError) {
        var i = 0
        func value(_ flag: String) throws(UsageError) -> String {
            i += 1
            guard i < argv.count else { throw UsageError(message: "option \(flag) needs a value") }
            return argv[i]
        }
        var onlyPositional = false
        while i < argv.count {
            let a = argv[i]
            if onlyPositional || !a.hasPrefix("-") || a == "-" {
                if command.isEmpty || (command.count == 1 && Self.commandsWithSub.contains(command[0])) {
                    command.append(a)
                } else {
                    positional.append(a)
                }
                i += 1
                continue
            }
            // Accept --flag=value as well as --flag value.
            var flag = a
            var inline: String?
            if a.hasPrefix("--"), let eq = a.firstIndex(of: "=") {
                flag = String(a[..<eq])
                inline = String(a[a.index(after: eq)...])
            }
            func take() throws(UsageError) -> String {
                if let inline { return inline }
                return try value(flag)
            }
            switch flag {
            case "--": onlyPositional = true
            case "-f", "--file":
                file = try take()
                fileGiven = true
            case "-C", "--directory": directory = try take()
            case "-j", "--jobs":
                let v = try take()
                guard let n = Int(v), n > 0 else { throw UsageError(message: "-j needs a positive number, got '\(v)'") }
                jobs = n
            case "--keep-going", "-k": keepGoing = true
            case "--force": force.append(try take())
            case "--json": json = true
            case "--quiet", "-q": quiet = true
            case "--no-wait": noWait = true
            case "--max-size": maxSize = try take()
            case "--cache-dir": cacheDir = try take()
            case "--diff": diffs.append(try take())
            case "--fuzz":
                let v = try take()
                guard let n = Int(v), n >= 0 else { throw UsageError(message: "--fuzz needs a number ≥ 0, got '\(v)'") }
                fuzz = n
            case "-o", "--output": output = try take()
            case "--reference-values": referenceValues = try take()
            case "--snp-report": snpReport = try take()
            case "--tdx-quote": tdxQuote = try take()
            case "--report-data": reportData = try take()
            case "--insecure-simulated-root": simulatedRoot = try take()
            case "--collateral": collateral = try take()
            case "--cert": certificate = try take()
            case "--chain": chain = try take()
            case "--product": product = try take()
            case "--at": at = try take()
            case "-m", "--manifest": manifest = try take()
            case "-c", "--coordinator": coordinator = try take()
            case "--listen": listen = try take()
            case "--state": state = try take()
            case "--simulated-tee": simulatedTEE = true
            case "--initdata": initdata = try take()
            case "--out": out = try take()
            case "--workspace", "-w": workspace = try take()
            case "--seedshare-owner-key": seedshareKey = try take()
            case "--seed-shares": seedShares = try take()
            case "--ephemeral-seed": ephemeralSeed = true
            case "--tls-cert": tlsCert = try take()
            case "--tls-key": tlsKey = try take()
            case "--tls-ca": tlsCA = try take()
            case "--retry":
                let v = try take()
                guard let n = Int(v), n >= 0 else { throw UsageError(message: "--retry needs seconds ≥ 0, got '\(v)'") }
                retrySeconds = n
            case "-h", "--help": help = true
            default:
                if a.hasPrefix("-j"), let n = Int(a.dropFirst(2)), n > 0 {
                    jobs = n
                } else {
                    throw UsageError(message: "unknown option '\(a)'")
                }
            }
            i += 1
        }
    }
}

/// Parses sizes such as `500`, `64k`, `10M`, `1.5GiB` (powers of 1024).
enum SizeParser {
    static func parse(_ text: String) -> Int64? {
        let lower = text.lowercased().trimmingCharacters(in: .whitespaces)
        let (k, m, g) = (1024.0, 1024.0 * 1024, 1024.0 * 1024 * 1024)
        let units: [(String, Double)] = [
            ("gib", g), ("mib", m), ("kib", k), ("gb", g), ("mb", m), ("kb", k), ("g", g), ("m", m), ("k", k), ("b", 1),
        ]
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            guard let n = Double(lower.dropLast(suffix.count)), n >= 0 else { return nil }
            return Int64(n * factor)
        }
        guard let n = Int64(lower), n >= 0 else { return nil }
        return n
    }

    static func format(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f", value) + " " + units[unit]
    }
}
