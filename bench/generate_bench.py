#!/usr/bin/env python3
"""generate benchmark: contrast-pipe's native generate against `kubectl kustomize` on N workloads.

For N in (10, 100, 1000) it writes N Deployments (contrast-cc runtime class, memory requests = limits, a
service-mesh annotation) plus the Coordinator into one file, a pipeline with one `generate` stage, and a
kustomization.yaml over the same file, then measures side by side in this one process run:

  full      contrast-pipe run on a fresh cache (every policy computed)
  no-op     contrast-pipe run again (nothing to do)
  one-edit  one Deployment's image changed (one policy recomputed, manifest and output rewritten)
  kustomize `kubectl kustomize` rendering the same resources (a render with no policy work at all)

Usage: bench/generate_bench.py [--binary PATH] [--sizes 10,100,1000] [--repeat 5]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def workloads(n, edit=None):
    docs = []
    for i in range(n):
        image = f"registry.example/app-{i}:1.0@sha256:{i:064x}"
        if edit == i:
            image = f"registry.example/app-{i}:1.1@sha256:{i + 1:064x}"
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
spec:
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels: {{app: app-{i}}}
      annotations:
        contrast.edgeless.systems/servicemesh-ingress: ""
    spec:
      runtimeClassName: contrast-cc
      containers:
      - name: app
        image: {image}
        env:
        - {{name: INDEX, value: "{i}"}}
        resources:
          limits: {{memory: 256Mi}}
          requests: {{memory: 256Mi}}
""")
    return "---\n".join(docs)


def timed(argv, cwd):
    start = time.perf_counter()
    r = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed: {r.stderr.decode()[-2000:]}")
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=f"{ROOT}/.build/release/contrast-pipe")
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `swift build -c release --static-swift-stdlib` first")
    coordinator = open(f"{ROOT}/pipelines/emojivoto/mirror/coordinator.yml").read()
    print(f"# generate benchmark (medians of {args.repeat}; full = first run incl. key generation excluded)")
    print(f"{'workloads':>9} {'full':>10} {'no-op':>9} {'one-edit':>9} {'kustomize':>10} {'full/kust':>9} {'edit/full':>9}")
    for n in [int(s) for s in args.sizes.split(",")]:
        d = tempfile.mkdtemp(prefix=f"cp-gen-{n}-")
        with open(f"{d}/apps.yml", "w") as f:
            f.write(workloads(n))
        with open(f"{d}/coordinator.yml", "w") as f:
            f.write(coordinator)
        with open(f"{d}/kustomization.yaml", "w") as f:
            f.write("resources:\n- apps.yml\n- coordinator.yml\n")
        with open(f"{d}/contrast.pipeline.yaml", "w") as f:
            f.write("version: 1\nname: bench\ndefaults: {cache: .cache}\nstages:\n  generate:\n    generate:\n"
                    "      inputs: [apps.yml, coordinator.yml]\n      output: out.yml\n"
                    "      minimum-tcb: {BootloaderVersion: 3, TEEVersion: 0, SNPVersion: 8, MicrocodeVersion: 115}\n")
        run = [args.binary, "run", "-q"]
        # Create the keys once (RSA-4096 generation is a one-time cost per workspace, not a generate cost).
        timed(run, d)
        fulls, noops, edits, kusts = [], [], [], []
        for r in range(args.repeat):
            shutil.rmtree(f"{d}/.cache")
            with open(f"{d}/apps.yml", "w") as f:
                f.write(workloads(n))
            fulls.append(timed(run, d))
            noops.append(timed(run, d))
            with open(f"{d}/apps.yml", "w") as f:
                f.write(workloads(n, edit=r % n))
            edits.append(timed(run, d))
            kusts.append(timed(["kubectl", "kustomize", d], d))
        full, noop, edit, kust = (statistics.median(x) for x in (fulls, noops, edits, kusts))
        print(f"{n:>9} {full * 1000:>8.1f}ms {noop * 1000:>7.1f}ms {edit * 1000:>7.1f}ms {kust * 1000:>8.1f}ms "
              f"{full / kust:>8.2f}x {edit / full * 100:>8.1f}%")
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
