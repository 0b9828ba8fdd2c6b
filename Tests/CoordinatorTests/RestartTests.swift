import Contrast
import Coordinator
import Crypto
import Foundation
import HTTP
import Testing

@Suite struct CoordinatorRestartTests {
    @Test func restartWithSeedIsReadyAndWithoutSeedNeedsRecovery() async throws {
        let h = try Harness()
        let manifest = try h.manifest()
        let client = try h.client
        let first = try await offPool {
            try client.setManifest(API.SetManifestRequest(manifest: Data(manifest.json().utf8), policies: h.policies))
        }
        let latest = try #require(try await h.snapshot().1)
        let updated = try h.manifest(webSANs: ["web", "*", "10.0.0.1"])
        let update = try h.signedRequest(updated, previous: latest)
        _ = try await offPool { try client.setManifest(update) }
        let before = try await offPool { try client.attest(expecting: updated) }
        h.stop()

        // Same state directory, seed on disk: Ready at once, byte-identical CAs and history.
        let again = try Harness(dir: h.dir)
        #expect(again.service.coordinator.status == .ready)
        let againClient = try again.client
        let restarted = try await offPool { try againClient.attest(expecting: updated) }
        #expect(restarted.rootCA == before.rootCA && restarted.meshCA == before.meshCA)
        #expect(restarted.manifests == before.manifests && restarted.latestTransition == before.latestTransition)
        again.stop()

        // Without the seed: recovery mode — attestable, not ready, refuses updates and certificates.
        try FileManager.default.removeItem(atPath: h.dir + "/state/secrets/seed.json")
        let recovering = try Harness(dir: h.dir)
        defer { recovering.stop() }
        #expect(recovering.service.coordinator.status == .recovery)
        let http = recovering.http
        #expect(try await offPool { try http.get("/probe/readiness").status } == 503)
        let rc = try recovering.client
        let blind = try await offPool { try rc.attest(expecting: updated) }
        #expect(blind.manifests.isEmpty)
        let (setStatus, setBody) = try await recovering.post(
            "/v1/manifest",
            API.encode(try h.signedRequest(updated, previous: latest))
        )
        #expect(setStatus == 412 && setBody.contains("recovery mode"))

        // A key that is not a seed-share owner is refused by the Coordinator.
        let other = try PrivateKey(pem: Shared.otherSeedsharePEM)
        let seedShares = try #require(first.seed_shares_doc)
        let bogusSeed = [UInt8](repeating: 7, count: 32)
        let forged = API.RecoverRequest(
            seed: Data(bogusSeed),
            salt: seedShares.salt,
            public_key: Data(try other.publicKeyPKIX()),
            signature: Data(
                try other.signDER(message: SHA256.hash(bogusSeed + [UInt8](seedShares.salt)).bytes, hash: .sha256)
            )
        )
        let (forgedStatus, forgedBody) = try await recovering.post("/v1/recover", API.encode(forged))
        #expect(forgedStatus == 403 && forgedBody.contains("not a seed-share owner"))
        #expect(recovering.service.coordinator.status == .recovery)

        // The owner decrypts its share and recovers: same root CA, mesh CA and history as before.
        try Data(SeedShares.fileJSON(seedShares).utf8).write(to: URL(fileURLWithPath: h.dir + "/seed-shares.json"))
        try Data(Shared.seedsharePEM).write(to: URL(fileURLWithPath: h.dir + "/seedshare-owner.pem"))
        try Data(updated.json().utf8).write(to: URL(fileURLWithPath: h.dir + "/manifest.json"))
        let op = RecoverOperation(
            client: rc,
            manifestPath: h.dir + "/manifest.json",
            keyPath: h.dir + "/seedshare-owner.pem",
            sharesPath: h.dir + "/seed-shares.json"
        )
        try await offPool { try op.run() }
        #expect(recovering.service.coordinator.status == .ready)
        let recovered = try await offPool { try rc.attest(expecting: updated) }
        #expect(
            recovered.rootCA == before.rootCA && recovered.meshCA == before.meshCA
                && recovered.manifests == before.manifests
        )
        #expect(FileManager.default.fileExists(atPath: h.dir + "/state/secrets/seed.json"))
        // Recovering a Coordinator that is not in recovery mode → 412.
        await #expect {
            try await offPool { try op.run() }
        } throws: { error in (error as? CoordinatorError)?.kind == .failedPrecondition }
    }

    @Test func seedSharesFileMatchesContrastsLayout() throws {
        let doc = API.SeedShareDocument(
            seed_shares: [API.SeedShare(public_key: "3082010a", encrypted_seed: Data([1, 2, 3]))],
            salt: Data([4, 5])
        )
        #expect(
            SeedShares.fileJSON(doc)
                == "{\n  \"SeedShares\": [\n    {\n      \"PublicKey\": \"3082010a\",\n      \"EncryptedSeed\": \"AQID\"\n    }\n  ],\n  \"salt\": \"BAU=\"\n}\n"
        )
        let parsed = try SeedShares.parseFile(Array(SeedShares.fileJSON(doc).utf8))
        #expect(parsed == doc)
    }

    @Test func ephemeralSeedMeansRecoveryAfterRestart() async throws {
        let h = try Harness(persistSeed: false)
        let manifest = try h.manifest()
        let client = try h.client
        _ = try await offPool {
            try client.setManifest(API.SetManifestRequest(manifest: Data(manifest.json().utf8), policies: h.policies))
        }
        #expect(!FileManager.default.fileExists(atPath: h.dir + "/state/secrets/seed.json"))
        h.stop()
        let again = try Harness(dir: h.dir, persistSeed: false)
        defer { again.stop() }
        #expect(again.service.coordinator.status == .recovery)
    }
}
