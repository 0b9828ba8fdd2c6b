import Crypto
import Foundation

/// Seed shares (contrast-formats.md §4.1): the seed encrypted with RSA-OAEP-SHA256, label "seedshare", for each
/// SeedshareOwnerPubKey (hex PKCS#1), plus the salt.
public enum SeedShares {
    static let label = Array("seedshare".utf8)

    /// Encrypts the seed for every owner key.
    public static func encrypt(seed: SeedEngine, for owners: [String]) throws -> API.SeedShareDocument {
        var shares: [API.SeedShare] = []
        for hex in owners.sorted() {
            guard let der = Digest(hex: hex)?.bytes else {
                throw CoordinatorError(.invalidArgument, "SeedshareOwnerPubKey \(hex) is not hex")
            }
            let key = try PublicKey(rsaPKCS1: der)
            shares.append(
                API.SeedShare(public_key: hex, encrypted_seed: Data(try key.encryptOAEP(seed.seed, label: label)))
            )
        }
        return API.SeedShareDocument(seed_shares: shares, salt: Data(seed.salt))
    }

    /// Contrast's seed-shares.json: Go's `json.MarshalIndent` of the protobuf struct (keys `SeedShares`
    /// [{`PublicKey`, `EncryptedSeed`}], `salt`).
    public static func fileJSON(_ doc: API.SeedShareDocument) -> String {
        var out = "{\n  \"SeedShares\": [\n"
        out += doc.seed_shares.map { share in
            "    {\n      \"PublicKey\": \"\(share.public_key)\",\n      \"EncryptedSeed\": \"\(share.encrypted_seed.base64EncodedString())\"\n    }"
        }.joined(separator: ",\n")
        out += doc.seed_shares.isEmpty ? "" : "\n"
        out += "  ],\n  \"salt\": \"\(doc.salt.base64EncodedString())\"\n}\n"
        if doc.seed_shares.isEmpty { out = out.replacingOccurrences(of: "[\n  ]", with: "[]") }
        return out
    }

    /// Reads seed-shares.json back.
    public static func parseFile(_ bytes: [UInt8]) throws -> API.SeedShareDocument {
        struct File: Decodable {
            struct Share: Decodable {
                var PublicKey: String
                var EncryptedSeed: Data
            }
            var SeedShares: [Share]?
            var salt: Data
        }
        let file = try JSONDecoder().decode(File.self, from: Data(bytes))
        return API.SeedShareDocument(
            seed_shares: (file.SeedShares ?? []).map {
                API.SeedShare(public_key: $0.PublicKey, encrypted_seed: $0.EncryptedSeed)
            },
            salt: file.salt
        )
    }
}

/// The persisted seed of an embedded/local Coordinator: `<state>/secrets/seed.json`, directory 0700, file 0600.
enum SeedFile {
    struct Content: Codable {
        var seed: Data
        var salt: Data
    }

    static func path(_ state: String) -> String { state + "/secrets/seed.json" }

    static func read(_ state: String) throws(CoordinatorError) -> SeedEngine? {
        let p = path(state)
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        do {
            let c = try JSONDecoder().decode(Content.self, from: Data(contentsOf: URL(fileURLWithPath: p)))
            return try SeedEngine(seed: [UInt8](c.seed), salt: [UInt8](c.salt))
        } catch {
            throw CoordinatorError(.internal, "unreadable seed file \(p): \(error)")
        }
    }

    static func write(_ seed: SeedEngine, to state: String) throws(CoordinatorError) {
        let dir = state + "/secrets"
        do {
            try FileManager.default.createDirectory(
                atPath: dir,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw CoordinatorError(.internal, "cannot create \(dir): \(error)")
        }
        try Files.write(API.encode(Content(seed: Data(seed.seed), salt: Data(seed.salt))), to: path(state), mode: 0o600)
    }
}
