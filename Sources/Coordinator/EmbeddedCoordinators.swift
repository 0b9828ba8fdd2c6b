public import Attestation
public import HTTP
import Synchronization

/// The embedded Coordinators of this process, one per state directory: started on first use on 127.0.0.1 (a free
/// port), serving until the process ends. Pipeline stages that talk to an embedded Coordinator (`set`, `verify`)
/// ask for its endpoint here, so it also runs when the `coordinator` stage itself was up to date.
public enum EmbeddedCoordinators {
    private static let running = Mutex<[String: CoordinatorService]>([:])

    /// The endpoint and simulated-root file of the Coordinator for `stateDirectory`, starting it if needed with
    /// HOST_DATA = sha256(`initdata`). A running instance with another initdata is restarted.
    public static func start(
        stateDirectory: String,
        initdata: [UInt8],
        product: SNPReport.Product = .milan
    ) throws(CoordinatorError) -> (endpoint: Endpoint, simulatedRoot: String) {
        try running.withLock { table throws(CoordinatorError) in
            if let service = table[stateDirectory], service.initdata == initdata {
                return (service.endpoint, service.simulatedRootFile ?? "")
            }
            table[stateDirectory]?.shutdown()
            var options = CoordinatorService.Options(
                listen: Endpoint(host: "127.0.0.1", port: 0),
                stateDirectory: stateDirectory,
                initdata: initdata
            )
            options.product = product
            let service = try CoordinatorService(simulated: options)
            table[stateDirectory] = service
            service.start()
            return (service.endpoint, service.simulatedRootFile ?? "")
        }
    }

    /// Stops every embedded Coordinator (in-flight requests finish).
    public static func shutdownAll() {
        running.withLock { table in
            for service in table.values { service.shutdown() }
            table.removeAll()
        }
    }

    /// The initdata TOML of the Coordinator resource (pod role `coordinator`) in rendered resources.
    public static func coordinatorInitdata(_ paths: [String]) throws(CoordinatorError) -> [UInt8] {
        var found: [[UInt8]] = []
        for r in try SetOperation.annotatedResources(paths) where r.role == "coordinator" {
            guard let initdata = r.initdata else {
                throw CoordinatorError(.invalidArgument, "\(r.source) has no initdata annotation (run generate first)")
            }
            found.append(initdata.toml)
        }
        guard found.count == 1 else {
            throw CoordinatorError(
                .invalidArgument,
                found.isEmpty
                    ? "no Coordinator resource (pod-role coordinator) in \(paths.joined(separator: ", "))"
                    : "\(found.count) Coordinator resources found; the embedded Coordinator needs exactly one"
            )
        }
        return found[0]
    }
}
