import Attestation
import Contrast
import Coordinator
import Crypto
import Foundation
import HTTP
import Testing

@Suite struct CoordinatorAPITests {
    @Test func firstSetThenSignedUpdateRotatesTheMeshCA() async throws {
        let h = try Harness()
        defer { h.stop() }
        let client = try h.client
        let manifest = try h.manifest()
        #expect(h.service.coordinator.status == .awaitingManifest)
        let ready = h.http
        #expect(try await offPool { try ready.get("/probe/readiness").status } == 503)
        // Before the first manifest the Coordinator still attests (empty history, no CAs).
        let before = try await offPool { try client.attest(expecting: manifest) }
        #expect(before.manifests.isEmpty && before.latestTransition == nil && before.rootCA.isEmpty)

        let first = try await offPool {
            try client.setManifest(
                API.SetManifestRequest(
                    manifest: Data(manifest.json().utf8),
                    policies: h.policies,
                    previous_transition_hash: Data(Transition.root)
                )
            )
        }
        #expect(try await offPool { try ready.get("/probe/readiness").status } == 200)
        // Seed shares: the seed encrypted for the seed-share owner (RSA-OAEP-SHA256, label "seedshare").
        let shares = try #require(first.seed_shares_doc)
        #expect(shares.seed_shares.count == 1 && shares.salt.count == 32)
        let seed = try PrivateKey(pem: Shared.seedsharePEM).decryptOAEP(
            [UInt8](shares.seed_shares[0].encrypted_seed),
            label: Array("seedshare".utf8)
        )
        #expect(seed.count == 32)
        // The root key is the seed's HKDF-derived key.
        let engine = try SeedEngine(seed: seed, salt: [UInt8](shares.salt))
        let root = try Certificate.pemChain([UInt8](first.root_ca))[0]
        #expect(try root.publicKey().pkix() == engine.rootCAKey().publicKeyPKIX())
        #expect(root.subjectCommonName == "system:coordinator:root")

        let state = try await offPool { try client.attest(expecting: manifest) }
        #expect(state.manifests == [Array(manifest.json().utf8)])
        #expect(state.rootCA == [UInt8](first.root_ca) && state.meshCA == [UInt8](first.mesh_ca))
        #expect(Set(state.policies) == Set(h.policies.map { [UInt8]($0) }))

        let updated = try h.manifest(webSANs: ["web", "*", "127.0.0.1"])
        let request = try h.signedRequest(updated, previous: try #require(state.latestTransition))
        let second = try await offPool { try client.setManifest(request) }
        #expect(second.seed_shares_doc == nil)
        #expect(second.root_ca == first.root_ca)
        #expect(second.mesh_ca != first.mesh_ca)
        let after = try await offPool { try client.attest(expecting: updated) }
        #expect(after.manifests.count == 2)
        // Replaying the same signed request is stale now.
        let (status, body) = try await h.post("/v1/manifest", API.encode(request))
        #expect(status == 412)
        #expect(body.contains("does not match the latest transition"))
    }

    @Test func refusedRequestsLeaveTheStateUnchanged() async throws {
        let h = try Harness()
        defer { h.stop() }
        let client = try h.client
        let manifest = try h.manifest()
        _ = try await offPool {
            try client.setManifest(API.SetManifestRequest(manifest: Data(manifest.json().utf8), policies: h.policies))
        }
        let baseline = try await h.snapshot()
        let latest = try #require(baseline.1)
        let updated = try h.manifest(webSANs: ["web"])

        // Unsigned update → 403.
        var unsigned = try h.signedRequest(updated, previous: latest)
        unsigned.signature = nil
        #expect(try await h.post("/v1/manifest", API.encode(unsigned)).0 == 403)
        // Signed by a key that is not a workload owner → 403.
        let (s1, b1) = try await h.post(
            "/v1/manifest",
            API.encode(try h.signedRequest(updated, previous: latest, key: Shared.otherOwnerPEM))
        )
        #expect(s1 == 403 && b1.contains("is not a workload owner of the current manifest"))
        // Owner's public key with a signature over another transition → 403.
        var forged = try h.signedRequest(updated, previous: latest)
        forged.signature = try h.signedRequest(try h.manifest(webSANs: ["x"]), previous: latest).signature
        #expect(try await h.post("/v1/manifest", API.encode(forged)).0 == 403)
        // Stale previous transition → 412.
        let (s2, b2) = try await h.post(
            "/v1/manifest",
            API.encode(try h.signedRequest(updated, previous: Transition.root))
        )
        #expect(s2 == 412 && b2.contains("does not match the latest transition"))
        // Changing the seed-share owners → 403.
        let reshared = try h.manifest(seedshareKeys: [Shared.otherSeedsharePEM])
        let (s3, b3) = try await h.post("/v1/manifest", API.encode(try h.signedRequest(reshared, previous: latest)))
        #expect(s3 == 403 && b3.contains("changing SeedshareOwnerPubKeys is not allowed"))
        // Malformed JSON and a nonce of the wrong size → 400.
        #expect(try await h.post("/v1/manifest", Array("{\"manifest\": 12".utf8)).0 == 400)
        #expect(try await h.post("/attest", Array("{\"nonce\": \"AAAA\"}".utf8)).0 == 400)
        // A missing policy document → 400.
        var missing = try h.signedRequest(updated, previous: latest)
        missing.policies = [missing.policies[0]]
        let (s4, b4) = try await h.post("/v1/manifest", API.encode(missing))
        #expect(s4 == 400 && b4.contains("no policy provided for hash"))
        // Expected-missing reference values → 400 with the fill-in hint.
        var incomplete = updated
        incomplete.snp = [ReferenceValues.simulatedSNP(minimumTCB: nil)]
        let (s5, b5) = try await h.post("/v1/manifest", API.encode(try h.signedRequest(incomplete, previous: latest)))
        #expect(s5 == 400 && b5.contains("expected-missing reference values") && b5.contains("fill them in"))
        // Oversized body → 413 (declared length above 16 MiB; the server answers without reading it).
        let stream = try TCPStream.connect(h.service.endpoint)
        try stream.write(
            Array(
                "POST /v1/manifest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(16 * 1024 * 1024 + 1)\r\n\r\n"
                    .utf8
            )
        )
        let reply = String(decoding: try stream.read(max: 4096), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"))
        // Unknown endpoint → 404; wrong method → 405.
        #expect(try await h.post("/v1/nothing", []).0 == 404)
        let http = h.http
        #expect(try await offPool { try http.get("/v1/manifest").status } == 405)

        let after = try await h.snapshot()
        #expect(after.0 == baseline.0 && after.1 == baseline.1 && after.2 == baseline.2)
    }

    @Test func meshCertificatesOnlyForAttestedPoliciesOfTheManifest() async throws {
        let h = try Harness()
        defer { h.stop() }
        let client = try h.client
        let manifest = try h.manifest()
        _ = try await offPool {
            try client.setManifest(API.SetManifestRequest(manifest: Data(manifest.json().utf8), policies: h.policies))
        }
        let tee = try SimulatedTEE(directory: h.dir + "/state/simulated-tee")
        let key = try PrivateKey.generate(.ecdsa(curve: "P-256"))
        let pkix = try key.publicKeyPKIX()

        let issued = try await offPool {
            try client.meshCertificate(
                publicKey: pkix,
                issuer: SimulatedSNPIssuer(tee: tee, hostData: h.webInitdata.digestBytes)
            )
        }
        let chain = try Certificate.pemChain([UInt8](issued.cert_chain))
        #expect(chain.count == 2)
        #expect(chain[0].subjectCommonName == "web")
        #expect(try chain[0].publicKey().pkix() == pkix)
        let meshCA = try Certificate.pemChain([UInt8](issued.mesh_ca))[0]
        let rootCA = try Certificate.pemChain([UInt8](issued.root_ca))[0]
        let now = Int64(Date().timeIntervalSince1970)
        #expect(chain[0].verify(root: meshCA, at: now) == nil)
        #expect(chain[0].verify(root: rootCA, intermediates: [chain[1]], at: now) == nil)
        #expect(issued.workload_secret.count == 32)
        // Same policy, same WorkloadSecretID → same secret.
        let again = try await offPool {
            try client.meshCertificate(
                publicKey: pkix,
                issuer: SimulatedSNPIssuer(tee: tee, hostData: h.webInitdata.digestBytes)
            )
        }
        #expect(again.workload_secret == issued.workload_secret)

        let before = try h.service.coordinator.historyEntryCount()
        // Evidence for a policy hash the manifest does not list → 403.
        let unknown = Initdata(data: ["policy.rego": "package agent_policy\n# rogue\n"])
        await #expect(
            throws: CoordinatorError(
                .permissionDenied,
                "coordinator answered 403: policy hash \(unknown.digest) not found in manifest"
            )
        ) {
            try await offPool {
                try client.meshCertificate(
                    publicKey: pkix,
                    issuer: SimulatedSNPIssuer(tee: tee, hostData: unknown.digestBytes)
                )
            }
        }
        // Evidence that binds another key (REPORT_DATA mismatch) → 403.
        let other = try PrivateKey.generate(.ecdsa(curve: "P-256")).publicKeyPKIX()
        let http = h.http
        let (nonceStatus, nonceBody) = try await h.post("/v1/mesh/nonce", Array("{}".utf8))
        #expect(nonceStatus == 200)
        let nonce = try JSONDecoder().decode(API.MeshNonce.self, from: Data(nonceBody.utf8)).nonce
        let evidence = try SimulatedSNPIssuer(tee: tee, hostData: h.webInitdata.digestBytes)
            .evidence(reportData: ReportData.publicKeyBinding(publicKey: other, nonce: [UInt8](nonce)))
        let mismatched = API.MeshCertRequest(
            attestation_type: evidence.type,
            raw_attestation_doc: Data(evidence.document),
            public_key: Data(pkix),
            nonce: nonce
        )
        let r1 = try await offPool { try http.postJSON("/v1/mesh/cert", API.encode(mismatched)) }
        #expect(r1.status == 403 && r1.text.contains("REPORT_DATA equals the expected value"))
        // The nonce was consumed by that attempt: reusing it → 403.
        let good = try SimulatedSNPIssuer(tee: tee, hostData: h.webInitdata.digestBytes)
            .evidence(reportData: ReportData.publicKeyBinding(publicKey: pkix, nonce: [UInt8](nonce)))
        let replay = API.MeshCertRequest(
            attestation_type: good.type,
            raw_attestation_doc: Data(good.document),
            public_key: Data(pkix),
            nonce: nonce
        )
        let r2 = try await offPool { try http.postJSON("/v1/mesh/cert", API.encode(replay)) }
        #expect(r2.status == 403 && r2.text.contains("unknown or expired nonce"))
        // Attested evidence that binds a key which is not a point on its curve → 400, no certificate.
        var bogus = pkix
        bogus[bogus.count - 1] ^= 0x01
        let bogusKey = bogus
        await #expect {
            try await offPool {
                try client.meshCertificate(
                    publicKey: bogusKey,
                    issuer: SimulatedSNPIssuer(tee: tee, hostData: h.webInitdata.digestBytes)
                )
            }
        } throws: { error in
            let e = error as? CoordinatorError
            return e?.kind == .invalidArgument
                && e?.message.contains("cannot issue a mesh certificate for this public key") == true
        }
        #expect(try h.service.coordinator.historyEntryCount() == before)
    }

    @Test func clientsRejectAnUnexpectedCoordinator() async throws {
        // A Coordinator running another policy than the manifest's coordinator entry.
        let h = try Harness(coordinatorPolicy: Initdata(data: ["policy.rego": "package agent_policy\n# tampered\n"]))
        defer { h.stop() }
        let client = try h.client
        let manifest = try h.manifest()
        await #expect {
            try await offPool { try client.attest(expecting: manifest) }
        } throws: { error in
            let message = (error as? CoordinatorError)?.message ?? ""
            return message.contains("HOST_DATA is an allowed policy hash")
                && message.contains("did you run `contrast generate`?")
        }
        // Real AMD roots do not accept the simulated platform.
        let plain = try Harness()
        defer { plain.stop() }
        var anyRoot = try plain.client
        anyRoot.anchors = .hardware
        let hardware = anyRoot
        await #expect {
            try await offPool { try hardware.attest(expecting: manifest) }
        } throws: { error in ((error as? CoordinatorError)?.message ?? "").contains("coordinator attestation failed") }
    }
}

extension Initdata {
    var digestBytes: [UInt8] { SHA256.hash(toml).bytes }
}
