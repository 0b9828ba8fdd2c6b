// coordinator-load: the load generator of bench/coordinator_bench.py. N client threads hammer a Coordinator for a
// fixed time with mesh-certificate requests (nonce → simulated-TEE evidence binding a per-client key → certificate)
// or /attest requests, and print one JSON line: requests, errors, seconds, requests per second, latency percentiles.
import Attestation
import Coordinator
import Crypto
import Foundation
import HTTP
import Synchronization

struct Options {
    var address = "127.0.0.1:1314"
    var mode = "mesh"
    var clients = 64
    var seconds = 10.0
    var tee = ""
    var initdata = ""
}

func parse() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
        switch a {
        case "--address": o.address = args.next() ?? o.address
        case "--mode": o.mode = args.next() ?? o.mode
        case "--clients": o.clients = Int(args.next() ?? "") ?? o.clients
        case "--seconds": o.seconds = Double(args.next() ?? "") ?? o.seconds
        case "--simulated-tee": o.tee = args.next() ?? ""
        case "--initdata": o.initdata = args.next() ?? ""
        default:
            FileHandle.standardError.write(
                Data(
                    "usage: coordinator-load --address A --mode mesh|attest --clients N --seconds S --simulated-tee DIR --initdata FILE\n"
                        .utf8
                )
            )
            exit(2)
        }
    }
    return o
}

let options = parse()
let endpoint = try Endpoint(parsing: options.address)
let issuer: SimulatedSNPIssuer? =
    options.mode == "mesh"
    ? SimulatedSNPIssuer(
        tee: try SimulatedTEE(directory: options.tee),
        hostData: SHA256.hash([UInt8](try Data(contentsOf: URL(fileURLWithPath: options.initdata)))).bytes
    )
    : nil

struct Totals {
    var ok = 0
    var errors = 0
    var firstError: String?
    var latencies: [Double] = []
}
let totals = Mutex(Totals())
let deadline = Date().addingTimeInterval(options.seconds)
let group = DispatchGroup()
let start = Date()
for _ in 0..<options.clients {
    group.enter()
    let thread = Thread {
        defer { group.leave() }
        var local = Totals()
        let client = CoordinatorClient(endpoint: endpoint, anchors: .hardware)
        let http = HTTPClient(endpoint: endpoint)
        let key = try? PrivateKey.generate(.ecdsa(curve: "P-256")).publicKeyPKIX()
        while Date() < deadline {
            let t0 = Date()
            do {
                if let issuer, let key {
                    _ = try client.meshCertificate(publicKey: key, issuer: issuer)
                } else {
                    let nonce = try SecureRandom.bytes(32)
                    let r = try http.postJSON("/attest", API.encode(API.AttestRequest(nonce: Data(nonce))))
                    guard r.status == 200 else { throw HTTPError("status \(r.status)") }
                }
                local.ok += 1
                local.latencies.append(Date().timeIntervalSince(t0))
            } catch {
                local.errors += 1
                if local.firstError == nil { local.firstError = "\(error)" }
            }
        }
        totals.withLock {
            $0.ok += local.ok
            $0.errors += local.errors
            $0.firstError = $0.firstError ?? local.firstError
            $0.latencies += local.latencies
        }
    }
    thread.stackSize = 1 << 20
    thread.start()
}
group.wait()
let elapsed = Date().timeIntervalSince(start)
let t = totals.withLock { $0 }
let sorted = t.latencies.sorted()
func pct(_ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000
}
let result: [String: Any] = [
    "mode": options.mode, "clients": options.clients, "requests": t.ok, "errors": t.errors, "seconds": elapsed,
    "per_second": Double(t.ok) / elapsed, "p50_ms": pct(0.5), "p99_ms": pct(0.99), "first_error": t.firstError ?? "",
]
let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
