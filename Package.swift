// swift-tools-version:6.0
import PackageDescription

/// Swift settings shared by every Swift target: Swift 6 language mode plus the upcoming features the
/// project relies on (explicit `internal import` of C modules, no implicit existentials).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "contrast-pipe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "contrast-pipe", targets: ["contrast-pipe"])
    ],
    targets: [
        // C system libraries: each is imported by exactly one Swift wrapper module below.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Real C functions for OpenSSL macros Swift cannot import.
        .target(name: "COpenSSLShims", dependencies: ["COpenSSL"]),

        // Swift wrappers: the only modules that import a C module.
        .target(name: "YAML", dependencies: ["CYAML"], swiftSettings: strictSettings),
        .target(name: "SQLite", dependencies: ["CSQLite"], swiftSettings: strictSettings),
        .target(name: "Crypto", dependencies: ["COpenSSL", "COpenSSLShims"], swiftSettings: strictSettings),
        .target(name: "Compression", dependencies: ["CZlib"], swiftSettings: strictSettings),

        // HTTP/1.1 server and client over POSIX sockets (TLS through Crypto).
        .target(name: "HTTP", dependencies: ["Crypto"], swiftSettings: strictSettings),

        // The pipeline model, task graph, scheduler, action keys and content-addressed store.
        .target(name: "Engine", dependencies: ["YAML", "SQLite", "Crypto"], swiftSettings: strictSettings),
        // The Kubernetes resource model: pod templates by kind, quantities, multi-document files.
        .target(name: "Kube", dependencies: ["YAML"], swiftSettings: strictSettings),
        // Contrast formats: manifest.json, initdata, service-mesh annotations, workload injection, policies.
        .target(
            name: "Contrast",
            dependencies: ["Kube", "YAML", "Crypto", "Compression"],
            swiftSettings: strictSettings
        ),
        // SEV-SNP and TDX evidence parsing and verification.
        .target(name: "Attestation", dependencies: ["Crypto", "Contrast", "Engine"], swiftSettings: strictSettings),
        // The Coordinator: history store, seed-derived PKI, HTTP API, and its clients (set, verify, initializer).
        .target(
            name: "Coordinator",
            dependencies: ["HTTP", "SQLite", "Crypto", "Contrast", "Attestation", "Kube", "YAML", "Engine"],
            swiftSettings: strictSettings
        ),
        // Unified diffs (git-apply semantics) and declarative pod-spec transforms.
        .target(name: "Patching", dependencies: ["Kube", "YAML"], swiftSettings: strictSettings),
        // Stage types (one file each) and their registry.
        .target(
            name: "Stages",
            dependencies: [
                "Engine", "YAML", "Kube", "Patching", "Crypto", "Contrast", "Coordinator", "HTTP", "Attestation",
            ],
            swiftSettings: strictSettings
        ),
        // The command-line tool.
        .executableTarget(
            name: "contrast-pipe",
            dependencies: [
                "Engine", "Stages", "YAML", "Patching", "Kube", "Attestation", "Crypto", "Coordinator", "HTTP",
            ],
            swiftSettings: strictSettings
        ),
        // The load generator of bench/coordinator_bench.py (not part of the product).
        .executableTarget(
            name: "coordinator-load",
            dependencies: ["Coordinator", "Attestation", "Crypto", "HTTP"],
            swiftSettings: strictSettings
        ),

        .testTarget(name: "YAMLTests", dependencies: ["YAML"], swiftSettings: strictSettings),
        .testTarget(
            name: "WrapperTests",
            dependencies: ["SQLite", "Crypto", "Compression"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: ["Engine", "Stages", "YAML", "Crypto", "SQLite"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ContrastTests",
            dependencies: ["Contrast", "Kube", "YAML", "Crypto"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AttestationTests",
            dependencies: ["Attestation", "Crypto"],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CoordinatorTests",
            dependencies: ["Coordinator", "HTTP", "Attestation", "Contrast", "Crypto"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "PatchingTests", dependencies: ["Patching", "Kube", "YAML"], swiftSettings: strictSettings),
        .testTarget(
            name: "CLITests",
            dependencies: ["contrast-pipe", "SQLite", "Crypto", "Contrast", "Kube", "YAML", "Attestation"],
            swiftSettings: strictSettings
        ),
    ]
)
