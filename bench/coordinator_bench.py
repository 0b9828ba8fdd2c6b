#!/usr/bin/env python3
"""Coordinator benchmark: mesh-certificate issuance and /attest throughput under 64 concurrent clients, next to
`openssl speed ecdsap384` (one P-384 signature per issued certificate / per attestation report) in the same run.

Steps: render the emojivoto pipeline (`run apply`), start `contrast-pipe coordinator serve --simulated-tee` with the
Coordinator's initdata, `contrast-pipe set` the manifest, then
  attest  wrk (64 connections, 2 threads, a Lua script POSTing a 32-byte nonce) against POST /attest
  mesh    coordinator-load (64 client threads): POST /v1/mesh/nonce, simulated-TEE evidence binding the client's
          key and the nonce, POST /v1/mesh/cert — every certificate is a full evidence verification + ECDSA
          P-384 leaf signature on the server
and prints requests per second, errors, and the ratio to `openssl speed -seconds N ecdsap384` sign/s
(goal: ratio >= 0.5, errors = 0). Client, server and openssl share this machine's cores.

Usage: bench/coordinator_bench.py [--bin-dir .build/release] [--seconds 10] [--clients 64]
"""
import argparse
import base64
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl_sign_rate(seconds):
    out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "ecdsap384"], capture_output=True, text=True).stdout
    m = re.search(r"384 bits ecdsa \(nistp384\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    if not m:
        sys.exit("cannot parse openssl speed output:\n" + out)
    return float(m.group(1)), float(m.group(2))


def wrk_attest(port, seconds, clients, work):
    script = os.path.join(work, "attest.lua")
    nonce = base64.b64encode(os.urandom(32)).decode()
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.body = \'{{"nonce":"{nonce}"}}\'\n')
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", script,
                          f"http://127.0.0.1:{port}/attest"], capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    return rate, errors, p50, p99


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, ".build/release"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--clients", type=int, default=64)
    args = ap.parse_args()
    cp = os.path.join(args.bin_dir, "contrast-pipe")
    load = os.path.join(args.bin_dir, "coordinator-load")
    for b in (cp, load):
        if not os.access(b, os.X_OK):
            sys.exit(f"{b} missing: swift build -c release --static-swift-stdlib")
    work = tempfile.mkdtemp(prefix="cp-coord-bench-")
    server = None
    try:
        src = os.path.join(ROOT, "pipelines/emojivoto")
        for item in ["contrast.pipeline.yaml", "mirror", "patches", "snphost-tcb.txt"]:
            (shutil.copytree if os.path.isdir(f"{src}/{item}") else shutil.copy)(f"{src}/{item}", f"{work}/{item}")
        text = open(f"{work}/contrast.pipeline.yaml").read().replace("cache: ../../cache", "cache: cache")
        open(f"{work}/contrast.pipeline.yaml", "w").write(text)
        subprocess.run([cp, "run", "apply", "-q"], cwd=work, check=True, stdout=subprocess.DEVNULL)
        resources = open(f"{work}/deployment/resources.yml").read()
        for doc in resources.split("\n---\n"):
            name = re.search(r"^  name: (\S+)", doc, re.M)
            ann = re.search(r"cc_init_data: (\S+)", doc)
            if name and ann:
                with open(f"{work}/{name.group(1)}.toml", "wb") as f:
                    f.write(gzip.decompress(base64.b64decode(ann.group(1).strip('"'))))
        port = free_port()
        server = subprocess.Popen([cp, "coordinator", "serve", "--simulated-tee", "--state", "state", "--initdata",
                                   "coordinator.toml", "--listen", f"127.0.0.1:{port}", "-q"], cwd=work,
                                  stderr=subprocess.DEVNULL)
        for _ in range(3000):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/probe/startup", timeout=1)
                break
            except Exception:
                time.sleep(0.02)
        subprocess.run([cp, "set", "-c", f"127.0.0.1:{port}", "--insecure-simulated-root",
                        "state/simulated-tee/ask_ark.pem", "-m", "deployment/manifest.json", "deployment/resources.yml"],
                       cwd=work, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        sign, verify = openssl_sign_rate(args.seconds)
        attest_rate, attest_errors, a50, a99 = wrk_attest(port, args.seconds, args.clients, work)
        mesh = json.loads(subprocess.run(
            [load, "--address", f"127.0.0.1:{port}", "--mode", "mesh", "--clients", str(args.clients), "--seconds",
             str(args.seconds), "--simulated-tee", "state/simulated-tee", "--initdata", "web.toml"],
            cwd=work, capture_output=True, text=True, check=True).stdout)
        print(f"openssl speed ecdsap384 (1 process): {sign:.1f} sign/s, {verify:.1f} verify/s")
        print(f"{'endpoint':<14}{'clients':>8}{'req/s':>10}{'errors':>8}{'p50':>10}{'p99':>10}{'ratio to sign/s':>18}")
        print(f"{'/attest':<14}{args.clients:>8}{attest_rate:>10.1f}{attest_errors:>8}{a50:>10}{a99:>10}"
              f"{attest_rate / sign:>17.2f}×")
        print(f"{'/v1/mesh/cert':<14}{args.clients:>8}{mesh['per_second']:>10.1f}{mesh['errors']:>8}"
              f"{mesh['p50_ms']:>8.1f}ms{mesh['p99_ms']:>8.1f}ms{mesh['per_second'] / sign:>17.2f}×")
        if mesh["errors"]:
            print("first mesh error:", mesh["first_error"])
        print(json.dumps({"openssl_sign_per_s": sign, "attest_per_s": attest_rate, "attest_errors": attest_errors,
                          "mesh_per_s": mesh["per_second"], "mesh_errors": mesh["errors"],
                          "attest_ratio": attest_rate / sign, "mesh_ratio": mesh["per_second"] / sign}))
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
