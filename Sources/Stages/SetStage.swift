import Coordinator
public import Engine
import Foundation
public import YAML

/// `set`: sends the manifest and every initdata document to the Coordinator after attesting it (Contrast's
/// `contrast set`), signing updates with the workload owner key.
///
///     set:
///       set:
///         manifest: deployment/manifest.json
///         resources: [deployment/resources.yml]
///         coordinator: coordinator/endpoint.json   # the coordinator stage's output
///         from: [generate, coordinator]
///         workload-owner-key: workload-owner.pem
///         retry: 180                                # seconds to wait for an unreachable Coordinator
///
/// Idempotent: when the Coordinator's latest manifest already equals ours nothing is sent (no mesh CA rotation,
/// unlike `contrast set`). Writes coordinator-root-ca.pem and mesh-ca.pem (outputs) and, on the first set,
/// seed-shares.json (kept out of the store). A side effect on the Coordinator: never restored from the cache.
public struct SetStage: Stage {
    public static let typeName = "set"
    public static let version = 1
    public static let summary = "attest the Coordinator and set the manifest (signed updates, no needless CA rotation)"
    public static let schema = ConfigSchema([
        .init("manifest", .string, required: true),
        .init("resources", .stringOrList, required: true),
        .init("coordinator", .string),
        .init("from", .stringOrList),
        .init("workload-owner-key", .string),
        .init("retry", .int),
    ])

    let manifest: String
    let resources: [String]
    let endpointFile: String
    let ownerKey: String
    let retry: Int
    public let references: [StageReference]

    public var inputs: [String] { [manifest, endpointFile] + resources + [ownerKey] }
    public var outputs: [String] { ["coordinator-root-ca.pem", "mesh-ca.pem"] }
    public var sideEffectTarget: String? { "coordinator \(endpointFile)" }

    public init(config: StageConfig) throws(Diagnostic) {
        manifest = config.string("manifest") ?? ""
        resources = config.strings("resources")
        endpointFile = config.string("coordinator") ?? "coordinator/endpoint.json"
        ownerKey = config.string("workload-owner-key") ?? "workload-owner.pem"
        retry = config.int("retry") ?? 180
        references = config.references("from")
        for p in [manifest, endpointFile, ownerKey] + resources where !Paths.isContained(p) {
            throw config.error(
                at: "manifest",
                "'\(p)' in stage '\(config.stageName)' (set) must be a path inside the workspace"
            )
        }
        guard ownerKey == "workload-owner.pem" else {
            throw config.error(
                at: "workload-owner-key",
                "stage '\(config.stageName)' (set): the workload owner key must be workload-owner.pem in the workspace"
            )
        }
    }

    public func run(_ context: StageContext) async throws -> StageResult {
        let client = try await CoordinatorStage.client(
            endpointFile: endpointFile,
            context: context,
            retrySeconds: retry
        )
        let op = SetOperation(
            client: client,
            manifestPath: context.path(manifest),
            resources: resources.map(context.path),
            workspace: context.workspace
        )
        let outcome = try await Blocking.run { () throws(CoordinatorError) in try op.run() }
        switch outcome {
        case .unchanged: context.log("the Coordinator already has this manifest; nothing sent")
        case .set(let first):
            context.log(
                first ? "first manifest set; seed shares in seed-shares.json" : "manifest updated; mesh CA rotated"
            )
        }
        return StageResult()
    }
}
