import Contrast
import Crypto
import Foundation

/// `contrast-pipe verify`: attest the Coordinator against the manifest, write `<workspace>/verify/` exactly as
/// Contrast does, and check that the active manifest is the expected one.
public struct VerifyOperation: Sendable {
    /// The client used.
    public var client: CoordinatorClient
    /// The expected manifest.json.
    public var manifestPath: String
    /// Workspace; `verify/` is written inside.
    public var workspace: String

    /// Creates the operation.
    public init(client: CoordinatorClient, manifestPath: String, workspace: String) {
        self.client = client
        self.manifestPath = manifestPath
        self.workspace = workspace
    }

    /// The files of verify/ (name → bytes) for an attested state.
    public static func files(_ state: AttestedState) -> [(String, [UInt8])] {
        var files: [(String, [UInt8])] = [("coordinator-root-ca.pem", state.rootCA), ("mesh-ca.pem", state.meshCA)]
        for (i, m) in state.manifests.enumerated() { files.append(("manifest.\(i).json", m)) }
        for doc in state.policies { files.append(("initdata.\(SHA256.hash(doc).hex).toml", doc)) }
        if let latest = state.latestTransition {
            files.append(("latest-transition", Array(Digest(bytes: latest).hex.utf8)))
        }
        return files
    }

    /// Runs it. Throws `.failedPrecondition` "active manifest does not match expected manifest" on mismatch (after
    /// writing verify/, so the history can be audited).
    public func run() throws(CoordinatorError) -> AttestedState {
        let manifestBytes = try Files.read(manifestPath)
        let manifest = try SetOperation.validated(manifestBytes, path: manifestPath)
        let state = try client.attest(expecting: manifest)
        // Write into a sibling temp directory and swap it in: verify/ is never half-written.
        let target = workspace + "/verify"
        let temp = workspace + "/.verify.tmp-\(getpid())"
        let fm = FileManager.default
        try? fm.removeItem(atPath: temp)
        for (name, bytes) in Self.files(state) { try Files.write(bytes, to: "\(temp)/\(name)") }
        let old = workspace + "/.verify.old-\(getpid())"
        if fm.fileExists(atPath: target) {
            guard rename(target, old) == 0 else { throw CoordinatorError(.internal, "cannot replace \(target)") }
        }
        guard rename(temp, target) == 0 else { throw CoordinatorError(.internal, "cannot write \(target)") }
        try? fm.removeItem(atPath: old)
        guard state.manifests.last == manifestBytes else {
            throw CoordinatorError(.failedPrecondition, "active manifest does not match expected manifest")
        }
        return state
    }
}
