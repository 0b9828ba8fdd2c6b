import Foundation
public import HTTP

/// The Coordinator's HTTP API (port 1314 by default) and probes on one listener.
///
/// Routes: `GET /capabilities`, `POST /attest`, `POST /v1/manifest`, `POST /v1/mesh/nonce`, `POST /v1/mesh/cert`,
/// `POST /v1/recover`, `GET /probe/startup|liveness|readiness` (readiness: 200 only once a manifest is set).
public struct CoordinatorAPIHandler: Sendable {
    /// The Coordinator served.
    public let coordinator: Coordinator
    /// Called with one line per request (method, path, status); nil = silent.
    public var log: (@Sendable (String) -> Void)?

    /// Serves `coordinator`.
    public init(coordinator: Coordinator, log: (@Sendable (String) -> Void)? = nil) {
        self.coordinator = coordinator
        self.log = log
    }

    /// Handles one request.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let response: HTTPResponse
        do throws(CoordinatorError) {
            response = try route(request)
        } catch {
            response = .json(error.httpStatus, API.encode(API.ErrorBody(error: error.message)))
        }
        log?("\(request.method) \(request.path) \(response.status)")
        return response
    }

    private func route(_ request: HTTPRequest) throws(CoordinatorError) -> HTTPResponse {
        let c = coordinator
        switch (request.method, request.path) {
        case ("GET", "/capabilities"):
            return .json(200, API.encode(c.capabilities()))
        case ("POST", "/attest"), ("POST", "/v1/attest"):
            let body = try API.decode(API.AttestRequest.self, request.body)
            return .json(200, API.encode(try c.attest(nonce: [UInt8](body.nonce))))
        case ("POST", "/v1/manifest"):
            let body = try API.decode(API.SetManifestRequest.self, request.body)
            let response = try c.setManifest(body, signerPublicKey: body.public_key.map { [UInt8]($0) })
            return .json(200, API.encode(response))
        case ("POST", "/v1/mesh/nonce"):
            return .json(200, API.encode(API.MeshNonce(nonce: Data(try c.meshNonce()))))
        case ("POST", "/v1/mesh/cert"):
            let body = try API.decode(API.MeshCertRequest.self, request.body)
            return .json(200, API.encode(try c.meshCert(body)))
        case ("POST", "/v1/recover"):
            try c.recover(try API.decode(API.RecoverRequest.self, request.body))
            return .json(200, Array("{}".utf8))
        case ("GET", "/probe/startup"), ("GET", "/probe/liveness"):
            return .text(200, c.status.rawValue)
        case ("GET", "/probe/readiness"):
            let status = c.status
            return .text(status == .ready ? 200 : 503, status.rawValue)
        case (_, "/capabilities"), (_, "/attest"), (_, "/v1/attest"), (_, "/v1/manifest"), (_, "/v1/mesh/nonce"),
            (_, "/v1/mesh/cert"),
            (_, "/v1/recover"), (_, "/probe/startup"), (_, "/probe/liveness"), (_, "/probe/readiness"):
            return .text(405, "method \(request.method) not allowed on \(request.path)")
        default:
            throw CoordinatorError(.notFound, "no such endpoint: \(request.path)")
        }
    }
}
