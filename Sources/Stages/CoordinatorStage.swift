import Attestation
import Coordinator
public import Engine
import Foundation
import HTTP
public import YAML

/// `coordinator`: where the pipeline's Coordinator is and how to trust it.
///
///     coordinator:
///       coordinator:
///         mode: embedded                   # default: a Coordinator on 127.0.0.1 inside this process, simulated TEE
///         resources: [deployment/resources.yml]   # the rendered Coordinator resource (its policy hash = HOST_DATA)
///         from: generate
///         state: coordinator/state         # embedded: history, seed (0600) and the simulated platform
///         product: milan                   # embedded: simulated CPU generation (milan, genoa, turin)
///         output: coordinator/endpoint.json
///         # mode: remote
///         address: 203.0.113.7:1314        # or
///         address-command: kubectl get svc coordinator -o jsonpath={.status.loadBalancer.ingress[0].ip}
///         insecure-simulated-root: path/ask_ark.pem   # only for a simulated remote Coordinator
///         tls-ca: coordinator-tls-ca.pem   # the remote serves HTTPS: verify its certificate with this CA
///
/// The output names the Coordinator (never an ephemeral port), so downstream `set` and `verify` re-run only when the
/// Coordinator changes: another address, another Coordinator policy, or a wiped embedded state (new instance ID).
/// `set` and `verify` start the embedded Coordinator on demand, so it runs whenever they do.
public struct CoordinatorStage: Stage {
    public static let typeName = "coordinator"
    public static let version = 1
    public static let summary = "embedded Coordinator (simulated TEE) or the address of a remote one"
    public static let schema = ConfigSchema([
        .init("mode", .string),
        .init("resources", .stringOrList),
        .init("from", .stringOrList),
        .init("state", .string),
        .init("output", .string),
        .init("address", .string),
        .init("address-command", .string),
        .init("port", .int),
        .init("insecure-simulated-root", .string),
        .init("tls-ca", .string),
        .init("product", .string),
    ])

    let mode: String
    let resources: [String]
    let state: String
    let output: String
    let address: String?
    let addressCommand: String?
    let port: Int
    let simulatedRoot: String?
    let tlsCA: String?
    let product: SNPReport.Product
    public let references: [StageReference]

    var instanceFile: String { state + "/instance-id" }
    var initdataFile: String { (output as NSString).deletingLastPathComponent + "/coordinator-initdata.toml" }

    public var inputs: [String] {
        mode == "embedded" ? resources + [instanceFile] : resources + [simulatedRoot, tlsCA].compactMap { $0 }
    }
    public var outputs: [String] { mode == "embedded" ? [output, initdataFile] : [output] }
    public var createdInputs: [String] { mode == "embedded" ? [instanceFile] : [] }
    // A remote address read from a command can change without any file changing.
    public var sideEffectTarget: String? { addressCommand != nil ? "coordinator address" : nil }

    public init(config: StageConfig) throws(Diagnostic) {
        let context = "stage '\(config.stageName)' (coordinator)"
        mode = config.string("mode") ?? "embedded"
        guard mode == "embedded" || mode == "remote" else {
            throw config.error(at: "mode", "'mode' in \(context) must be embedded or remote")
        }
        resources = config.strings("resources")
        state = config.string("state") ?? "coordinator/state"
        output = config.string("output") ?? "coordinator/endpoint.json"
        address = config.string("address")
        addressCommand = config.string("address-command")
        port = config.int("port") ?? 1314
        simulatedRoot = config.string("insecure-simulated-root")
        tlsCA = config.string("tls-ca")
        let productName = config.string("product") ?? "milan"
        guard let product = SNPReport.Product(name: productName) else {
            throw config.error(at: "product", "'product' in \(context) must be milan, genoa or turin")
        }
        self.product = product
        references = config.references("from")
        if mode == "embedded" {
            guard !resources.isEmpty else {
                throw config.error(
                    at: "mode",
                    "\(context): mode embedded needs 'resources' (the rendered Coordinator resource)"
                )
            }
            if address != nil || addressCommand != nil {
                throw config.error(
                    at: address != nil ? "address" : "address-command",
                    "\(context): 'address' is for mode remote"
                )
            }
        } else if (address == nil) == (addressCommand == nil) {
            throw config.error(
                at: "mode",
                "\(context): mode remote needs exactly one of 'address' or 'address-command'"
            )
        }
        for p in [state, output] + resources where !Paths.isContained(p) {
            throw config.error(at: "state", "'\(p)' in \(context) must be a path inside the workspace")
        }
    }

    public func createInputs(in workspace: String) throws {
        guard mode == "embedded" else { return }
        let abs = Paths.resolve(instanceFile, against: workspace)
        guard FileSystem.fileStat(abs) == nil else { return }
        let id = Array(UUID().uuidString.lowercased().utf8) + [10]
        try FileSystem.writeAtomically(id, to: abs)
    }

    public func run(_ context: StageContext) async throws -> StageResult {
        var description: [String: String] = ["mode": mode]
        if mode == "embedded" {
            let initdata = try coordinatorCall { () throws(CoordinatorError) in
                try EmbeddedCoordinators.coordinatorInitdata(resources.map(context.path))
            }
            let instance = try String(contentsOfFile: context.path(instanceFile), encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            try FileSystem.writeAtomically(initdata, to: context.path(initdataFile))
            let statePath = context.path(state)
            let product = self.product
            let started = try await Blocking.run { () throws(CoordinatorError) in
                try EmbeddedCoordinators.start(stateDirectory: statePath, initdata: initdata, product: product)
            }
            context.log("embedded Coordinator on http://\(started.endpoint) (state \(state), simulated TEE)")
            description["state"] = state
            description["instance"] = instance
            description["initdata"] = initdataFile
            description["product"] = product.rawValue
        } else {
            var host = address ?? ""
            if let command = addressCommand {
                let r = try await ProcessRunner.run(
                    ["/bin/sh", "-c", command],
                    directory: context.workspace,
                    logPath: context.logPath,
                    captureOutput: true
                )
                guard r.status == 0 else {
                    throw StageFailure("address-command failed (exit \(r.status))", exitStatus: r.status)
                }
                host = String(decoding: r.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !host.isEmpty else { throw StageFailure("address-command printed no address") }
            }
            let endpoint: Endpoint
            do { endpoint = try Endpoint(parsing: host, defaultPort: port) } catch {
                throw StageFailure("invalid Coordinator address '\(host)': \(error.message)", isInputError: true)
            }
            description["address"] = endpoint.description
            if let simulatedRoot { description["insecure-simulated-root"] = simulatedRoot }
            if let tlsCA { description["tls-ca"] = tlsCA }
            context.log("remote Coordinator at \(endpoint)")
        }
        let json = try JSONSerialization.data(
            withJSONObject: description,
            options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        )
        try FileSystem.writeAtomically([UInt8](json) + [10], to: context.path(output))
        return StageResult()
    }

    /// Builds a client for the Coordinator an endpoint file describes, starting the embedded one if needed.
    static func client(endpointFile: String, context: StageContext, retrySeconds: Int) async throws -> CoordinatorClient
    {
        let data = try Data(contentsOf: URL(fileURLWithPath: context.path(endpointFile)))
        guard let d = try JSONSerialization.jsonObject(with: data) as? [String: String] else {
            throw StageFailure("\(endpointFile) is not a coordinator endpoint file", isInputError: true)
        }
        if d["mode"] == "embedded", let state = d["state"], let initdataFile = d["initdata"] {
            let initdata = try [UInt8](Data(contentsOf: URL(fileURLWithPath: context.path(initdataFile))))
            let statePath = context.path(state)
            let product = d["product"].flatMap(SNPReport.Product.init(rawValue:)) ?? .milan
            let started = try await Blocking.run { () throws(CoordinatorError) in
                try EmbeddedCoordinators.start(stateDirectory: statePath, initdata: initdata, product: product)
            }
            return CoordinatorClient(
                endpoint: started.endpoint,
                anchors: try TrustAnchors.simulated(pemFile: started.simulatedRoot),
                retrySeconds: retrySeconds
            )
        }
        guard let address = d["address"] else {
            throw StageFailure("\(endpointFile) names no Coordinator", isInputError: true)
        }
        var anchors = TrustAnchors.hardware
        if let root = d["insecure-simulated-root"] {
            context.warn("trusting a SIMULATED attestation root (\(root)); this proves nothing about real hardware")
            anchors = try TrustAnchors.simulated(pemFile: context.path(root))
        }
        var client = CoordinatorClient(
            endpoint: try Endpoint(parsing: address),
            anchors: anchors,
            retrySeconds: retrySeconds
        )
        client.onRetry = { message in context.log("coordinator not reachable yet (\(message)); retrying") }
        client.tlsCAFile = d["tls-ca"].map(context.path)
        return client
    }
}

/// Runs blocking work (socket calls, the Coordinator client) on a Dispatch thread, so the two threads of the Swift
/// concurrency pool stay free for the embedded Coordinator that may be answering it.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(CoordinatorError) -> T) async throws -> T {
        let result: Result<T, CoordinatorError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(CoordinatorError) { continuation.resume(returning: .success(try body())) } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        do { return try result.get() } catch { throw stageFailure(error) }
    }

    /// Coordinator errors as stage failures: configuration problems are input errors (exit 2).
    static func stageFailure(_ error: CoordinatorError) -> StageFailure {
        StageFailure(
            error.message,
            isInputError: error.kind == .invalidArgument && !error.message.hasPrefix("coordinator answered")
        )
    }
}

/// Runs a synchronous Coordinator-module call, mapping its error to a stage failure.
func coordinatorCall<T>(_ body: () throws(CoordinatorError) -> T) throws -> T {
    do throws(CoordinatorError) { return try body() } catch { throw Blocking.stageFailure(error) }
}
