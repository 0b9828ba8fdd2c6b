import Attestation
import Coordinator
import Dispatch
import Foundation
import HTTP

/// `coordinator serve`, `set`, `verify`, `initializer`, `recover`.
enum CoordinatorCommands {
    /// Maps Coordinator errors to exit codes: configuration/usage problems 2, everything else 1.
    static func finish(_ body: () throws(CoordinatorError) -> Void) -> Int32 {
        do throws(CoordinatorError) {
            try body()
            return 0
        } catch {
            Output.err("contrast-pipe: \(error.message)")
            if error.kind == .invalidArgument && !error.message.hasPrefix("coordinator answered") { return 2 }
            return 1
        }
    }

    static func endpoint(_ args: Arguments) throws(UsageError) -> Endpoint {
        guard let address = args.coordinator else {
            throw UsageError(message: "missing -c HOST:PORT (the Coordinator's address)")
        }
        do { return try Endpoint(parsing: address, defaultPort: 1314) } catch {
            throw UsageError(message: error.message)
        }
    }

    static func anchors(_ args: Arguments) throws(UsageError) -> TrustAnchors {
        guard let file = args.simulatedRoot else { return .hardware }
        Output.err(
            "WARNING: trusting a SIMULATED attestation root (\(file)). Evidence accepted against it proves nothing about "
                + "real hardware. Never use --insecure-simulated-root outside local tests."
        )
        do { return try TrustAnchors.simulated(pemFile: file) } catch {
            throw UsageError(message: "cannot read --insecure-simulated-root \(file): \(error)")
        }
    }

    static func client(_ args: Arguments, retry: Int) throws(UsageError) -> CoordinatorClient {
        var client = CoordinatorClient(
            endpoint: try endpoint(args),
            anchors: try anchors(args),
            retrySeconds: args.retrySeconds ?? retry
        )
        client.onRetry = { message in Output.err("coordinator not reachable yet (\(message)); retrying") }
        client.tlsCAFile = args.tlsCA
        return client
    }

    static func coordinator(_ args: Arguments) async throws -> Int32 {
        guard args.command.count == 2, args.command[1] == "serve" else {
            throw UsageError(
                message:
                    "usage: contrast-pipe coordinator serve [--listen ADDR] [--state DIR] [--simulated-tee] [--initdata FILE]"
            )
        }
        guard args.simulatedTEE else {
            throw UsageError(
                message:
                    "no TEE available: this build serves evidence from the simulated SEV-SNP platform only; pass --simulated-tee "
                    + "(real SNP/TDX evidence needs /dev/sev-guest or /dev/tdx_guest inside a confidential VM)"
            )
        }
        var product = SNPReport.Product.milan
        if let p = args.product {
            guard let parsed = SNPReport.Product(name: p) else {
                throw UsageError(message: "unknown --product '\(p)' (milan, genoa or turin)")
            }
            product = parsed
        }
        let listen: Endpoint
        do { listen = try Endpoint(parsing: args.listen ?? "127.0.0.1:1314", defaultPort: 1314) } catch {
            throw UsageError(message: "--listen: \(error.message)")
        }
        var options = CoordinatorService.Options(
            listen: listen,
            stateDirectory: args.state ?? ".contrast-coordinator",
            initdata: nil
        )
        if let path = args.initdata {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw UsageError(message: "cannot read --initdata \(path)")
            }
            options.initdata = [UInt8](data)
        } else {
            Output.err(
                "warning: no --initdata: HOST_DATA is all zeros, so clients expecting a coordinator policy will reject this Coordinator"
            )
        }
        options.persistSeed = !args.ephemeralSeed
        options.product = product
        switch (args.tlsCert, args.tlsKey) {
        case (let cert?, let key?): options.tls = (cert, key)
        case (nil, nil): break
        default: throw UsageError(message: "--tls-cert and --tls-key go together")
        }
        if !args.quiet { options.log = { line in Output.err(line) } }
        let service: CoordinatorService
        do { service = try CoordinatorService(simulated: options) } catch {
            Output.err("contrast-pipe: \(error.message)")
            return error.kind == .unavailable ? 1 : 2
        }
        let signals = [SIGINT, SIGTERM].map { sig -> any DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { service.shutdown() }
            source.resume()
            return source
        }
        Output.err(
            "coordinator listening on \(options.tls == nil ? "http" : "https")://\(service.endpoint) (state \(options.stateDirectory), \(service.coordinator.status.rawValue); "
                + "simulated TEE root: \(service.simulatedRootFile ?? "-"))"
        )
        await service.run()
        for source in signals { source.cancel() }
        Output.err("coordinator stopped")
        return 0
    }

    static func set(_ args: Arguments) throws -> Int32 {
        guard !args.positional.isEmpty else {
            throw UsageError(message: "set needs the resource files or directories (RESOURCES...)")
        }
        let workspace = args.workspace ?? "."
        let op = SetOperation(
            client: try client(args, retry: 180),
            manifestPath: args.manifest ?? workspace + "/manifest.json",
            resources: args.positional,
            workspace: workspace
        )
        return finish { () throws(CoordinatorError) in
            switch try op.run() {
            case .unchanged: Output.out("✔️ the Coordinator already has this manifest; nothing to do")
            case .set(let first):
                Output.out(
                    "✔️ Manifest set successfully\(first ? " (first manifest: seed shares in \(workspace)/seed-shares.json)" : "")"
                )
            }
        }
    }

    static func verify(_ args: Arguments) throws -> Int32 {
        let workspace = args.workspace ?? "."
        guard let manifest = args.manifest else { throw UsageError(message: "verify needs -m manifest.json") }
        let op = VerifyOperation(client: try client(args, retry: 0), manifestPath: manifest, workspace: workspace)
        return finish { () throws(CoordinatorError) in
            let state = try op.run()
            Output.out("✔️ Successfully verified Coordinator CVM based on reference values from manifest")
            Output.out(
                "✔️ Wrote Coordinator configuration and keys to \(workspace)/verify (\(state.manifests.count) manifest(s) in history)"
            )
            Output.out("Please verify the manifest history and policies in \(workspace)/verify")
        }
    }

    static func initializer(_ args: Arguments) throws -> Int32 {
        guard let initdata = args.initdata else { throw UsageError(message: "initializer needs --initdata FILE") }
        guard let out = args.out else { throw UsageError(message: "initializer needs --out DIR") }
        // The workload's TEE: the simulated platform next to --insecure-simulated-root, else the one in the state
        // directory of a `coordinator serve` started here (--state, default .contrast-coordinator).
        let teeDir =
            args.simulatedRoot.map { ($0 as NSString).deletingLastPathComponent }
            ?? (args.state ?? ".contrast-coordinator") + "/simulated-tee"
        guard FileManager.default.fileExists(atPath: teeDir + "/vcek-key.pem") else {
            throw UsageError(
                message:
                    "no simulated TEE in \(teeDir): the initializer runs on the simulated platform of a Coordinator started with "
                    + "--simulated-tee; pass --insecure-simulated-root STATE/simulated-tee/ask_ark.pem or --state STATE"
            )
        }
        let tee = try SimulatedTEE(directory: teeDir)
        // The initializer does not attest the Coordinator (as Contrast's); the simulated root is not needed for trust.
        var workloadClient = CoordinatorClient(
            endpoint: try endpoint(args),
            anchors: .hardware,
            retrySeconds: args.retrySeconds ?? 30
        )
        workloadClient.tlsCAFile = args.tlsCA
        workloadClient.onRetry = { message in Output.err("coordinator not reachable yet (\(message)); retrying") }
        let op = InitializerOperation(client: workloadClient, initdataPath: initdata, outputDirectory: out, tee: tee)
        return finish { () throws(CoordinatorError) in
            let files = try op.run()
            Output.out("wrote \(files.joined(separator: ", ")) to \(out)")
        }
    }

    static func recover(_ args: Arguments) throws -> Int32 {
        let workspace = args.workspace ?? "."
        let op = RecoverOperation(
            client: try client(args, retry: 0),
            manifestPath: args.manifest ?? workspace + "/manifest.json",
            keyPath: args.seedshareKey ?? workspace + "/seedshare-owner.pem",
            sharesPath: args.seedShares ?? workspace + "/seed-shares.json"
        )
        return finish { () throws(CoordinatorError) in
            try op.run()
            Output.out("✔️ Successfully recovered the Coordinator")
        }
    }
}
