#!/usr/bin/env python3
"""Engine benchmark: contrast-pipe against ninja and make on the same synthetic build graphs.

For N in (10, 100, 1000) it writes a pipeline of N `command` stages, an equivalent build.ninja and an
equivalent Makefile (the same commands, inputs and outputs: a binary tree where stage i reads src/i.txt
and the output of stage i//2), then measures, side by side in this one process run:

  full   a clean build (fresh output directory and fresh cache/.ninja_log)
  no-op  a second invocation with nothing to do (median of several)

and prints each tool's time and contrast-pipe's ratio to ninja and make.

Usage: bench/engine_bench.py [--binary PATH] [--sizes 10,100,1000] [--repeat 7] [--jobs 2]
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


def command(i):
    parts = [f"src/{i}.txt"] + ([f"out/{i // 2}.txt"] if i > 0 else [])
    return parts, f"out/{i}.txt"


def write_tree(d, n):
    os.makedirs(f"{d}/src", exist_ok=True)
    os.makedirs(f"{d}/out", exist_ok=True)
    for i in range(n):
        with open(f"{d}/src/{i}.txt", "w") as f:
            f.write(f"source {i}\n")
    lines = ["version: 1", f"name: bench{n}", "defaults: {cache: .cache}", "stages:"]
    ninja = ["rule cat", "  command = cat $in > $out", ""]
    make = [".PHONY: all", "all: " + " ".join(f"out/{i}.txt" for i in range(n)), ""]
    for i in range(n):
        ins, out = command(i)
        deps = f", from: [s{i // 2}]" if i > 0 else ""
        lines.append(f"  s{i}:")
        lines.append(
            f"    command: {{argv: [sh, -c, 'cat {' '.join(ins)} > {out}'], inputs: [{', '.join(ins)}], "
            f"outputs: [{out}]{deps}}}")
        ninja.append(f"build {out}: cat {' '.join(ins)}")
        make.append(f"{out}: {' '.join(ins)}\n\tcat {' '.join(ins)} > {out}")
    with open(f"{d}/contrast.pipeline.yaml", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(f"{d}/build.ninja", "w") as f:
        f.write("\n".join(ninja) + "\n")
    with open(f"{d}/Makefile", "w") as f:
        f.write("\n".join(make) + "\n")


def timed(argv, cwd):
    start = time.perf_counter()
    r = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed in {cwd}: {r.stderr.decode()[-2000:]}")
    return elapsed


def clean(d):
    shutil.rmtree(f"{d}/out", ignore_errors=True)
    os.makedirs(f"{d}/out")
    shutil.rmtree(f"{d}/.cache", ignore_errors=True)
    for f in (".ninja_log", ".ninja_deps"):
        if os.path.exists(f"{d}/{f}"):
            os.remove(f"{d}/{f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=f"{ROOT}/.build/release/contrast-pipe")
    ap.add_argument("--sizes", default="10,100,1000")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `swift build -c release --static-swift-stdlib` first")
    j = str(args.jobs)
    tools = {
        "contrast-pipe": [args.binary, "run", "-q", "-j", j],
        "ninja": ["ninja", "-j", j],
        "make": ["make", "-j", j],
    }
    print(f"# contrast-pipe engine benchmark (jobs={j}, no-op = median of {args.repeat})")
    print(f"{'stages':>6} {'phase':<6} {'contrast-pipe':>14} {'ninja':>10} {'make':>10} {'cp/ninja':>9} {'cp/make':>8}")
    for n in [int(s) for s in args.sizes.split(",")]:
        d = tempfile.mkdtemp(prefix=f"cp-bench-{n}-")
        write_tree(d, n)
        results = {}
        for name, argv in tools.items():
            clean(d)
            full = timed(argv, d)
            noop = statistics.median(timed(argv, d) for _ in range(args.repeat))
            results[name] = (full, noop)
        for phase, k in (("full", 0), ("no-op", 1)):
            cp, nj, mk = results["contrast-pipe"][k], results["ninja"][k], results["make"][k]
            print(f"{n:>6} {phase:<6} {cp * 1000:>12.1f}ms {nj * 1000:>8.1f}ms {mk * 1000:>8.1f}ms "
                  f"{cp / nj:>8.2f}x {cp / mk:>7.2f}x")
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
