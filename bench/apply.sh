#!/usr/bin/env bash
# The first apply of 1,000 objects across 30 kinds, against the fake API server with
# 5 ms injected latency on every request: `homelab apply` against
# `kubectl apply --server-side` on the same rendered objects, each on a fresh server.
# Prints wall time and request count as ratios; target <= 0.5x kubectl's wall time.
#
# homelab's time includes everything it does: evaluating the inventory, rendering,
# discovery, applying stage by stage and waiting for readiness between stages.
# kubectl gets the objects already rendered, and (as it needs) two calls around
# `kubectl wait` so the custom resources find their CRDs established.
#
# usage: bench/apply.sh [RUNS]   (median of RUNS runs each, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
latency_ms=${LATENCY_MS:-5}
kubectl=${KUBECTL:-kubectl}
cargo build --release -q -p homelab -p fake-apiserver
homelab=$PWD/target/release/homelab
fake=$PWD/target/release/fake-apiserver

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# 24 releases x 40 objects over 29 kinds + 25 namespaces + 15 CRDs = 1,000 objects, 30 kinds.
python3 bench/gen-lab.py "$work/lab" 3 24 40 --kinds 29 --independent
"$homelab" --root "$work/lab" render -e dev --out "$work/rendered" >/dev/null 2>&1
grep -h '^kind: CustomResourceDefinition' -l "$work"/rendered/*.yaml >/dev/null

python3 - "$runs" "$latency_ms" "$kubectl" "$homelab" "$fake" "$work" <<'PY'
import glob, json, os, re, statistics, subprocess, sys, time, urllib.request

runs, latency, kubectl, homelab, fake, work = sys.argv[1:]
runs, latency = int(runs), int(latency)
lab, rendered = f"{work}/lab", f"{work}/rendered"

# Split the rendered files for kubectl: CRDs first, everything else after.
docs = []
for path in sorted(glob.glob(f"{rendered}/*.yaml")):
    docs += [d for d in open(path).read().split("\n---\n") if d.strip() and "kind:" in d]
def is_crd(d):
    return re.search(r"^kind: CustomResourceDefinition$", d, re.M) is not None
crds = [d for d in docs if is_crd(d)]
rest = [d for d in docs if not is_crd(d)]
open(f"{work}/crds.yaml", "w").write("\n---\n".join(crds) + "\n")
open(f"{work}/rest.yaml", "w").write("\n---\n".join(rest) + "\n")
kinds = {re.search(r"^kind: (\S+)$", d, re.M).group(1) for d in docs}

def start_server():
    kubeconfig = f"{work}/kubeconfig"
    proc = subprocess.Popen([fake, "--latency-ms", str(latency), "--kubeconfig", kubeconfig],
                            stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip().split()[-1]
    # The lab binds `dev` to context `kind-bench`; name the fake's context so.
    text = open(kubeconfig).read().replace("fake", "kind-bench")
    open(kubeconfig, "w").write(text)
    return proc, url, kubeconfig

def requests(url):
    with urllib.request.urlopen(f"{url}/_fake/requests") as r:
        return json.load(r)["total"]

def run(cmds, env):
    t = time.perf_counter()
    for cmd in cmds:
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t

def measure(tool):
    times, counts = [], []
    for _ in range(runs):
        proc, url, kubeconfig = start_server()
        env = dict(os.environ, KUBECONFIG=kubeconfig, NO_COLOR="1")
        try:
            if tool == "homelab":
                cmds = [[homelab, "--root", lab, "apply", "-e", "dev"]]
            else:
                k = [kubectl, "--kubeconfig", kubeconfig]
                cmds = [k + ["apply", "--server-side", "-f", f"{work}/crds.yaml"],
                        k + ["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"],
                        k + ["apply", "--server-side", "-f", f"{work}/rest.yaml"]]
            before = requests(url)
            times.append(run(cmds, env))
            counts.append(requests(url) - before - 1)
        finally:
            proc.terminate()
            proc.wait()
    return statistics.median(times), statistics.median(counts)

h_t, h_n = measure("homelab")
k_t, k_n = measure("kubectl")
print(f"first apply of {len(docs)} objects across {len(kinds)} kinds, {latency} ms latency, median of {runs}:")
print(f"  homelab apply:               {h_t:6.2f} s, {h_n:5.0f} requests")
print(f"  kubectl apply --server-side: {k_t:6.2f} s, {k_n:5.0f} requests")
print(f"  wall time ratio {h_t / k_t:.2f}x (target <= 0.5x), request ratio {h_n / k_n:.2f}x")
PY
