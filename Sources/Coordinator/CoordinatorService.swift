public import Attestation
import Crypto
import Foundation
public import HTTP

/// A Coordinator bound to a listener and serving its HTTP API: what `coordinator serve` runs in the foreground and
/// the pipeline's embedded `coordinator` stage runs in the background for the duration of a run.
public final class CoordinatorService: Sendable {
    /// The Coordinator.
    public let coordinator: Coordinator
    /// The HTTP server.
    public let server: HTTPServer
    /// The simulated platform's ASK+ARK file clients must be given (`--insecure-simulated-root`), when simulated.
    public let simulatedRootFile: String?
    /// The Coordinator's own initdata (nil = none given).
    public let initdata: [UInt8]?

    /// Options for `start`.
    public struct Options: Sendable {
        /// Listen address (port 0 = any free port).
        public var listen: Endpoint
        /// State directory.
        public var stateDirectory: String
        /// The Coordinator's own initdata TOML bytes (HOST_DATA = its SHA-256).
        public var initdata: [UInt8]?
        /// Persist the seed (see `CoordinatorConfig.persistSeed`).
        public var persistSeed = true
        /// Request log; nil = silent.
        public var log: (@Sendable (String) -> Void)?
        /// The simulated CPU generation (default Milan).
        public var product: SNPReport.Product = .milan
        /// Serve HTTPS with this PEM certificate chain and key (nil = plain HTTP, as Contrast's port 1314).
        public var tls: (certificateChain: String, key: String)?

        /// Creates options.
        public init(listen: Endpoint, stateDirectory: String, initdata: [UInt8]?) {
            self.listen = listen
            self.stateDirectory = stateDirectory
            self.initdata = initdata
        }
    }

    /// Opens the state, creates the simulated TEE under `<state>/simulated-tee/` and binds the listener.
    public init(simulated options: Options) throws(CoordinatorError) {
        let teeDir = options.stateDirectory + "/simulated-tee"
        let tee: SimulatedTEE
        let anchors: TrustAnchors
        do {
            tee = try SimulatedTEE(directory: teeDir, product: options.product)
            anchors = .simulated([tee.askDER, tee.arkDER])
        } catch { throw CoordinatorError(.internal, "simulated TEE in \(teeDir): \(error)") }
        let hostData = options.initdata.map { SHA256.hash($0).bytes } ?? [UInt8](repeating: 0, count: 32)
        let config = CoordinatorConfig(
            stateDirectory: options.stateDirectory,
            issuer: SimulatedSNPIssuer(tee: tee, hostData: hostData),
            anchors: anchors,
            persistSeed: options.persistSeed
        )
        coordinator = try Coordinator(config: config)
        var serverOptions = HTTPServerOptions()
        if let tls = options.tls {
            do {
                serverOptions.tls = try TLSServerContext(certificateChainFile: tls.certificateChain, keyFile: tls.key)
            } catch {
                throw CoordinatorError(.invalidArgument, error.message)
            }
        }
        do { server = try HTTPServer(listen: options.listen, options: serverOptions) } catch {
            throw CoordinatorError(.unavailable, "\(error)")
        }
        simulatedRootFile = teeDir + "/ask_ark.pem"
        initdata = options.initdata
        handler = CoordinatorAPIHandler(coordinator: coordinator, log: options.log)
    }

    private let handler: CoordinatorAPIHandler

    /// The bound address.
    public var endpoint: Endpoint { server.endpoint }

    /// Serves until `shutdown()`.
    public func run() async {
        let handler = self.handler
        await server.run { request in handler.handle(request) }
    }

    /// Starts serving in the background (on the server's own executor).
    public func start() {
        let handler = self.handler
        server.start { request in handler.handle(request) }
    }

    /// Stops serving (in-flight requests finish).
    public func shutdown() { server.shutdown() }
}
