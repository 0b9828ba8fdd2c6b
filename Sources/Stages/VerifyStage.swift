import Coordinator
public import Engine
import Foundation
public import YAML

/// `verify`: attests the Coordinator against the manifest and writes `verify/` exactly as `contrast verify`
/// (coordinator-root-ca.pem, mesh-ca.pem, manifest.<i>.json, initdata.<digest>.toml, latest-transition). Fails with
/// "active manifest does not match expected manifest" when the Coordinator runs another manifest.
///
///     verify:
///       verify:
///         manifest: deployment/manifest.json
///         coordinator: coordinator/endpoint.json
///         from: [set]
public struct VerifyStage: Stage {
    public static let typeName = "verify"
    public static let version = 1
    public static let summary = "attest the Coordinator and write verify/ (mesh CA, manifest history, initdata)"
    public static let schema = ConfigSchema([
        .init("manifest", .string, required: true),
        .init("coordinator", .string),
        .init("from", .stringOrList),
        .init("retry", .int),
    ])

    let manifest: String
    let endpointFile: String
    let retry: Int
    public let references: [StageReference]

    public var inputs: [String] { [manifest, endpointFile] }
    public var outputs: [String] { [] }
    public var sideEffectTarget: String? { "verify \(endpointFile)" }

    public init(config: StageConfig) throws(Diagnostic) {
        manifest = config.string("manifest") ?? ""
        endpointFile = config.string("coordinator") ?? "coordinator/endpoint.json"
        retry = config.int("retry") ?? 30
        references = config.references("from")
        for p in [manifest, endpointFile] where !Paths.isContained(p) {
            throw config.error(
                at: "manifest",
                "'\(p)' in stage '\(config.stageName)' (verify) must be a path inside the workspace"
            )
        }
    }

    public func run(_ context: StageContext) async throws -> StageResult {
        let client = try await CoordinatorStage.client(
            endpointFile: endpointFile,
            context: context,
            retrySeconds: retry
        )
        let op = VerifyOperation(client: client, manifestPath: context.path(manifest), workspace: context.workspace)
        let state = try await Blocking.run { () throws(CoordinatorError) in try op.run() }
        context.log("verified the Coordinator; \(state.manifests.count) manifest(s) in history; wrote verify/")
        return StageResult(outputs: VerifyOperation.files(state).map { "verify/\($0.0)" })
    }
}
