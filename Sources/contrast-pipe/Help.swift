/// Help texts, one per command.
enum Help {
    static let version = "0.1.0"

    static let main = """
        contrast-pipe \(version) — declarative, incremental Contrast deployments

        Usage: contrast-pipe [OPTIONS] COMMAND [ARGS]

        Commands:
          run [TARGET...]       run the pipeline (or the targets and what they need)
          plan [TARGET...]      show what run would do and why
          check [TARGET...]     exit 0 when nothing would change, 1 otherwise (for GitOps CI)
          graph                 print the stage graph as Graphviz DOT
          explain STAGE         why a stage last ran and why it would run now
          cache stats|verify|gc inspect, verify or shrink the cache store
          patch [--diff F]... INPUT
                                apply unified diffs to a file (no pipeline needed)
          generate --reference-values PLATFORM PATH...
                                contrast generate, standalone (no pipeline needed)
          evidence verify --snp-report F --cert C
                                verify SEV-SNP attestation evidence
          coordinator serve [--listen ADDR] [--state DIR] --simulated-tee [--initdata FILE]
                                run a Contrast Coordinator (HTTP API, port 1314)
          set -c ADDR [-m manifest.json] RESOURCES...
                                attest the Coordinator and set the manifest
          verify -c ADDR -m manifest.json
                                attest the Coordinator and write verify/
          initializer -c ADDR --initdata FILE --out DIR
                                a workload's mesh certificate (simulated TEE)
          recover -c ADDR [-m manifest.json]
                                hand the seed back to a Coordinator in recovery mode
          version               print the version
          help [COMMAND]        show help for a command

        Options:
          -f, --file FILE       pipeline file (default: ./contrast.pipeline.yaml)
          -C, --directory DIR   change to DIR first
          -j, --jobs N          stages to run at once (default: number of cores)
          -k, --keep-going      keep running independent stages after a failure
          --force STAGE         run STAGE even when up to date (repeatable)
          --json                one JSON event per line on stdout
          -q, --quiet           print only failures and the summary
          --no-wait             fail instead of waiting when another run holds the cache lock
          -h, --help            show help

        Exit codes: 0 success or up to date; 1 a stage failed, or check found stale work; 2 usage or
        configuration error.
        """

    static let commands: [String: String] = [
        "run": """
        Usage: contrast-pipe run [OPTIONS] [TARGET...]

        Runs every stage (or the targets and the stages they need) in dependency order, independent stages
        in parallel. A stage runs only when its action key (type, version, configuration, input digests,
        upstream output digests) has no cached result; outputs that are missing or were edited by hand are
        restored from the cache. Stages with side effects run when their key differs from the last one
        applied to their target.

        Options: -f FILE, -C DIR, -j N, --keep-going, --force STAGE, --json, --quiet, --no-wait
        """,
        "plan": """
        Usage: contrast-pipe plan [OPTIONS] [TARGET...]

        Prints, for every stage, what run would do and why: "input X changed", "config changed",
        "output X missing → restore", "upstream X will run first", "up to date". Changes nothing.

        Options: -f FILE, -C DIR, --force STAGE, --json
        """,
        "check": """
        Usage: contrast-pipe check [OPTIONS] [TARGET...]

        Exits 0 when every stage is up to date and 1 otherwise, listing what is stale. Use it in GitOps CI
        to prove that committed output matches the pipeline. Changes nothing.

        Options: -f FILE, -C DIR, --json
        """,
        "graph": """
        Usage: contrast-pipe graph [OPTIONS]

        Prints the stage graph in Graphviz DOT (edges follow the data flow). Render it with
        `contrast-pipe graph | dot -Tsvg > graph.svg`.

        Options: -f FILE, -C DIR
        """,
        "explain": """
        Usage: contrast-pipe explain [OPTIONS] STAGE

        Shows the stage's current decision with its action key and reasons, and its latest runs with why
        each ran.

        Options: -f FILE, -C DIR, --json
        """,
        "cache": """
        Usage: contrast-pipe cache stats|verify|gc [OPTIONS]

          stats               blobs, bytes, action entries, and the hit rate of the last run
          verify              re-hash every blob and check the database; exit 1 on corruption
          gc --max-size SIZE  shrink the store below SIZE (e.g. 500M): blobs no current stage needs go
                              first, least recently used first, then the oldest of the rest

        The cache directory comes from the pipeline file (defaults.cache) or --cache-dir DIR.

        Options: -f FILE, -C DIR, --cache-dir DIR, --json
        """,
        "patch": """
        Usage: contrast-pipe patch [--diff FILE]... [--fuzz N] [-o OUT] INPUT

        Applies unified diffs to INPUT in order, with git-apply semantics: every hunk of every diff applies
        or nothing is written. Hunks found at another line are applied there and the offset is reported; a
        hunk that does not match names the diff, the hunk header and the first mismatching line. --fuzz N
        lets a hunk ignore up to N leading and trailing context lines. Without -o the input is rewritten
        atomically; -o - writes to stdout.
        """,
        "generate": """
        Usage: contrast-pipe generate --reference-values PLATFORM [-m manifest.json] [-o OUT] PATH...

        contrast generate without a pipeline, with Contrast's flag names: validates and prepares every
        workload with a contrast-cc runtime class in the files (directories are searched for *.yml and
        *.yaml), computes the native policies, annotates the initdata and writes manifest.json (-m, default
        ./manifest.json; its ReferenceValues and keys are kept when it exists). Without -o each file is
        rewritten in place; with -o all resources go to OUT. Keys are created next to the manifest.
        PLATFORM: metal-qemu-snp (simulated reference values), metal-qemu-snp-gpu, metal-qemu-tdx(-gpu)
        (these need an existing manifest with reference values).
        """,
        "evidence": """
        Usage: contrast-pipe evidence verify --snp-report FILE --cert VCEK_OR_VLEK [--chain ASK_ARK_PEM]
                                             [--product milan|genoa|turin] [--at RFC3339_TIME] [--json]
                                             [--reference-values JSON] [--report-data HEX]
                                             [--insecure-simulated-root ASK_ARK_PEM]
               contrast-pipe evidence verify --tdx-quote FILE [--collateral DIR] [--at RFC3339_TIME] [--json]
                                             [--reference-values JSON] [--report-data HEX]

        Parses an SEV-SNP attestation report and checks it: the ECDSA P-384 signature with the VCEK or VLEK
        (DER or PEM), the certificate chain to the AMD root (the pinned ARK for the product unless --chain
        gives an ASK/ASVK + ARK bundle), certificate validity at --at (default now), the certificate's TCB
        and hardware-ID extensions against the report, and the default policy (debug forbidden). Prints
        the fields and every check. Exit 0 accepted, 1 rejected, 2 unreadable input.
        TDX: the quote signature, the PCK chain to the pinned Intel SGX Root CA, the QE report signature
        and its binding of the attestation key, certificate validity, and debug forbidden.
        --reference-values takes a manifest.json (its ReferenceValues, and its Policies keys as the allowed
        HOST_DATA / MRCONFIGID[0:32] policy hashes) or a {"snp": [...], "tdx": [...]} file; every field
        check is listed. --report-data requires an exact REPORT_DATA.
        --collateral DIR (TDX) holds Intel PCS documents: *tcbinfo*.json, optionally *qe_identity*.json, and
        the TCB signing chain *signing*.pem; their signatures are checked and the TCB level is matched the way
        go-tdx-guest does (first level with all SGX/TDX components and PCESVN covered; module identity
        TDX_%02X when TEE_TCB_SVN[1] > 0); platform and module statuses are reported separately.
        """,
        "coordinator": """
        Usage: contrast-pipe coordinator serve [--listen ADDR] [--state DIR] --simulated-tee
                                               [--product milan|genoa|turin] [--initdata FILE] [--ephemeral-seed] [-q]
                                               [--tls-cert CHAIN.pem --tls-key KEY.pem]

        Runs a Contrast Coordinator: the HTTP API of contrast-formats.md §4.3 on ADDR (default
        127.0.0.1:1314): GET /capabilities, POST /attest, POST /v1/manifest, POST /v1/mesh/nonce and
        /v1/mesh/cert (workload certificates), POST /v1/recover, and /probe/startup|liveness|readiness (ready
        once a manifest is set). State in DIR (default .contrast-coordinator): history.sqlite (content-addressed
        manifests, policies, transitions and the signed latest pointer), secrets/seed.json (mode 0600; not
        written with --ephemeral-seed, so a restart enters recovery mode as in Contrast) and, with
        --simulated-tee, the simulated SEV-SNP platform whose ASK+ARK chain clients trust with
        --insecure-simulated-root DIR/simulated-tee/ask_ark.pem (--product picks the simulated generation: ARK/ASK
        names, CPUID, TCB layout and hwID length as AMD's; default milan). --initdata is the Coordinator's own initdata
        TOML; its SHA-256 is HOST_DATA. Real SNP/TDX evidence needs a confidential VM; this build serves the
        simulated TEE only. SIGINT/SIGTERM stop it gracefully (in-flight requests finish). With --tls-cert and
        --tls-key it serves HTTPS; clients then pass --tls-ca FILE.
        """,
        "set": """
        Usage: contrast-pipe set -c HOST:PORT [-m manifest.json] [--workspace DIR] [--retry SECONDS]
                                 [--insecure-simulated-root ASK_ARK_PEM] RESOURCES...

        contrast set over the HTTP API: validates the manifest by Contrast's rules (expected-missing reference
        values are refused with what to fill in), checks that the initdata annotations in RESOURCES are exactly
        the manifest's Policies, attests the Coordinator (evidence against the manifest's reference values,
        HOST_DATA a coordinator-role policy hash, report data recomputed from this client's nonce), then sends
        the manifest and every initdata document. Updates are signed with DIR/workload-owner.pem over the
        transition hash. Writes DIR/coordinator-root-ca.pem, DIR/mesh-ca.pem and, on the first set,
        DIR/seed-shares.json. When the Coordinator's latest manifest already equals this one nothing is sent
        (no CA rotation). Retries an unreachable Coordinator for --retry seconds (default 180).
        Without --insecure-simulated-root only the real AMD roots are trusted. --tls-ca FILE: the Coordinator
        serves HTTPS with a certificate from that CA.
        """,
        "verify": """
        Usage: contrast-pipe verify -c HOST:PORT -m manifest.json [--workspace DIR]
                                    [--insecure-simulated-root ASK_ARK_PEM]

        contrast verify: attests the Coordinator against the manifest, then writes DIR/verify/ (default
        ./verify/) as Contrast does: coordinator-root-ca.pem, mesh-ca.pem, manifest.<i>.json (0 = oldest),
        initdata.<sha256>.toml for every policy of the history and latest-transition. Exit 1 with "active
        manifest does not match expected manifest" when the Coordinator runs another manifest.
        """,
        "initializer": """
        Usage: contrast-pipe initializer -c HOST:PORT --initdata FILE --out DIR
                                         [--insecure-simulated-root STATE/simulated-tee/ask_ark.pem | --state STATE]

        The workload side on the simulated TEE: the platform in the directory of --insecure-simulated-root, or in
        STATE/simulated-tee (default STATE: .contrast-coordinator, as `coordinator serve`). It makes a fresh P-256 key,
        gets a Coordinator nonce, signs evidence with HOST_DATA = sha256(FILE) and REPORT_DATA =
        SHA-512(public key ‖ nonce), then POST /v1/mesh/cert. Writes DIR/mesh-ca.pem, certChain.pem (leaf +
        intermediate), key.pem (PKCS#8, 0600), coordinator-root-ca.pem and workload-secret-seed (hex, 0600),
        like Contrast's initializer writes /contrast/tls-config and /contrast/secrets.
        """,
        "recover": """
        Usage: contrast-pipe recover -c HOST:PORT [-m manifest.json] [--workspace DIR]
                                     [--seedshare-owner-key FILE] [--seed-shares FILE]
                                     [--insecure-simulated-root ASK_ARK_PEM]

        For a Coordinator that restarted without its seed (recovery mode): attests it against the manifest,
        decrypts this owner's share of DIR/seed-shares.json with DIR/seedshare-owner.pem (RSA-OAEP-SHA256,
        label "seedshare") and sends the seed, signed with the same key. The Coordinator checks the key is a
        SeedshareOwnerPubKey of the latest manifest and that the seed verifies its history, then is Ready
        again with the same root CA and history.
        """,
        "version": "Usage: contrast-pipe version\n\nPrints the version.",
        "help": "Usage: contrast-pipe help [COMMAND]\n\nShows help for a command.",
    ]
}
