#!/usr/bin/env bash
# Against the fake API server with 5 ms injected latency on every request, 1,000
# objects across 30 kinds, `homelab apply` against kubectl on the same rendered objects,
# each tool on a fresh server; wall time and request count as ratios:
#   1. the first apply (`kubectl apply --server-side`); target <= 0.5x;
#   2. a no-op re-apply; target <= 0.1x;
#   3. pruning 100 removed objects (kubectl's ApplySet prune:
#      `KUBECTL_APPLYSET=true kubectl apply --server-side --prune --applyset=…`).
#
# Rows 2 and 3 come twice. "fast path": homelab skips an object whose live
# applied-hash matches, while kubectl re-sends every object — the user's experience,
# not the same work. "like-for-like": `homelab apply --no-skip` re-sends every object
# too, so the ratio compares the same work.
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
release=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release  # where cargo put it
homelab=$release/homelab
fake=$release/fake-apiserver

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# 24 releases x 40 objects over 29 kinds + 25 namespaces + 15 CRDs = 1,000 objects, 30 kinds.
python3 bench/gen-lab.py "$work/lab" 3 24 40 --kinds 29 --independent
"$homelab" --root "$work/lab" render -e dev --out "$work/rendered" >/dev/null 2>&1
# The same lab without 100 objects (the last five of 20 releases), for pruning.
cp -r "$work/lab" "$work/pruned"
python3 - "$work/pruned" <<'PY'
import sys
for r in range(20):
    path = f"{sys.argv[1]}/releases/app{r:04d}/release.toml"
    text = open(path).read()
    for o in range(35, 40):
        text = text.replace(f', "manifests/m{o:02d}.yaml.hbs"', "")
    open(path, "w").write(text)
PY
"$homelab" --root "$work/pruned" render -e dev --out "$work/rendered-pruned" >/dev/null 2>&1

python3 - "$runs" "$latency_ms" "$kubectl" "$homelab" "$fake" "$work" <<'PY'
import glob, json, os, re, statistics, subprocess, sys, time, urllib.request

runs, latency, kubectl, homelab, fake, work = sys.argv[1:]
runs, latency = int(runs), int(latency)
lab, pruned_lab = f"{work}/lab", f"{work}/pruned"

def is_crd(d):
    return re.search(r"^kind: CustomResourceDefinition$", d, re.M) is not None

# Split the rendered files for kubectl: CRDs first, everything else after; without
# homelab's ApplySet label, which kubectl's own ApplySet would refuse to overwrite.
def split(rendered, name):
    docs = []
    for path in sorted(glob.glob(f"{rendered}/*.yaml")):
        docs += [d for d in open(path).read().split("\n---\n") if d.strip() and "kind:" in d]
    docs = [re.sub(r"^ *applyset\.kubernetes\.io/part-of: .*(\n|$)", "", d, flags=re.M) for d in docs]
    open(f"{work}/{name}-crds.yaml", "w").write("\n---\n".join(d for d in docs if is_crd(d)) + "\n")
    open(f"{work}/{name}-rest.yaml", "w").write("\n---\n".join(d for d in docs if not is_crd(d)) + "\n")
    return docs

docs = split(f"{work}/rendered", "full")
pruned_docs = split(f"{work}/rendered-pruned", "pruned")
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

# kubectl's ApplySet needs a cluster-scoped parent for members in many namespaces: a
# custom resource whose CRD is labelled as a parent type, made beforehand.
import base64, hashlib
parent_id = "applyset-" + base64.urlsafe_b64encode(
    hashlib.sha256(b"kubectl-bench..ApplySet.bench.example.com").digest()).decode().rstrip("=") + "-v1"
open(f"{work}/parent-crd.yaml", "w").write("""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: applysets.bench.example.com
  labels: {applyset.kubernetes.io/is-parent-type: "true"}
spec:
  group: bench.example.com
  scope: Cluster
  names: {kind: ApplySet, plural: applysets, singular: applyset, listKind: ApplySetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
""")
open(f"{work}/parent.yaml", "w").write(f"""apiVersion: bench.example.com/v1
kind: ApplySet
metadata:
  name: kubectl-bench
  annotations:
    applyset.kubernetes.io/tooling: kubectl/v1.32.0
    applyset.kubernetes.io/contains-group-kinds: ""
  labels:
    applyset.kubernetes.io/id: {parent_id}
""")

def kubectl_cmds(kubeconfig, name, applyset=False):
    k = [kubectl, "--kubeconfig", kubeconfig]
    extra = ["--prune", "--applyset=applysets.bench.example.com/kubectl-bench"] if applyset else []
    return [k + ["apply", "--server-side", "-f", f"{work}/{name}-crds.yaml"],
            k + ["wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"],
            k + ["apply", "--server-side", *extra, "-f", f"{work}/{name}-rest.yaml"]]

def kubectl_parent(kubeconfig):
    k = [kubectl, "--kubeconfig", kubeconfig]
    return [k + ["apply", "--server-side", "-f", f"{work}/parent-crd.yaml"],
            k + ["wait", "--for=condition=Established", "crd/applysets.bench.example.com"],
            k + ["apply", "--server-side", "--field-manager=kubectl-applyset",
                 "-f", f"{work}/parent.yaml"]]

def homelab_cmd(root, *flags):
    return [[homelab, "--root", root, "apply", "-e", "dev", *flags]]

def measure(setup, timed):
    """Median wall time and requests of `timed` after `setup` (untimed), fresh server each."""
    times, counts = [], []
    for _ in range(runs):
        proc, url, kubeconfig = start_server()
        env = dict(os.environ, KUBECONFIG=kubeconfig, NO_COLOR="1", KUBECTL_APPLYSET="true")
        try:
            run(setup(kubeconfig), env)
            before = requests(url)
            times.append(run(timed(kubeconfig), env))
            counts.append(requests(url) - before - 1)
        finally:
            proc.terminate()
            proc.wait()
    return statistics.median(times), statistics.median(counts)

def show(title, target, h, k, peer):
    (h_t, h_n), (k_t, k_n) = h, k
    print(f"{title}:")
    print(f"  homelab apply: {h_t:6.2f} s, {h_n:5.0f} requests")
    print(f"  {peer}: {k_t:6.2f} s, {k_n:5.0f} requests")
    goal = f" (target <= {target})" if target else ""
    print(f"  wall time ratio {h_t / k_t:.3f}x{goal}, request ratio {h_n / k_n:.3f}x")

nothing = lambda kc: []
print(f"{len(docs)} objects across {len(kinds)} kinds, {latency} ms latency, median of {runs} runs each")
show("first apply (nothing to skip: the same work)", "0.5x",
     measure(nothing, lambda kc: homelab_cmd(lab)),
     measure(nothing, lambda kc: kubectl_cmds(kc, "full")),
     "kubectl apply --server-side")
k_noop = measure(lambda kc: kubectl_cmds(kc, "full"), lambda kc: kubectl_cmds(kc, "full"))
show("no-op re-apply, fast path (homelab skips unchanged objects)", "0.1x",
     measure(lambda kc: homelab_cmd(lab), lambda kc: homelab_cmd(lab)),
     k_noop, "kubectl apply --server-side")
show("no-op re-apply, like-for-like (homelab apply --no-skip re-sends every object)", None,
     measure(lambda kc: homelab_cmd(lab), lambda kc: homelab_cmd(lab, "--no-skip")),
     k_noop, "kubectl apply --server-side")
try:
    k = measure(lambda kc: kubectl_parent(kc) + kubectl_cmds(kc, "full", True),
                lambda kc: kubectl_cmds(kc, "pruned", True))
except subprocess.CalledProcessError as e:
    print(f"kubectl ApplySet prune failed on the fake: {e.stderr.decode()[-400:]}")
    k = None
pruned = len(docs) - len(pruned_docs)
for label, flags in [("fast path", []), ("like-for-like, homelab apply --no-skip", ["--no-skip"])]:
    h = measure(lambda kc: homelab_cmd(lab),
                lambda kc: homelab_cmd(pruned_lab, "--allow-data-loss", *flags))
    if k:
        # kubectl lists every group-kind in every namespace of the set, throttled by its
        # client-side rate limit; that, not the fake, dominates its time here.
        show(f"pruning {pruned} removed objects, {label}", None, h, k,
             "kubectl ApplySet --prune")
    else:
        print(f"pruning {pruned} removed objects, {label}: homelab {h[0]:.2f} s, "
              f"{h[1]:.0f} requests (no kubectl peer)")
PY
