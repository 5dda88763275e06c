#!/usr/bin/env bash
# A no-op host deploy plan on the reference lab: `homelab deploy --hosts-only --plan`
# when every host already runs what the repository builds, against the same command
# with `--rebuild`, which evaluates and builds every host as each deploy did before
# host input digests. Target: the no-op plan costs one SSH round trip per host.
#
# The hosts are the test suite's fake `ssh` and `nix` (tools/homelab/tests/it/support/
# fakes/): `nix build` takes EVAL_DELAY seconds (default 3; evaluating a real NixOS
# system takes 10-30 s) and every SSH round trip SSH_DELAY seconds (default 0.05, a Pi
# over Tailscale). The repository is the lab, read only; the cluster layer is left out
# (`--hosts-only`): its no-op path is bench/apply.sh's.
#
# usage: bench/deploy.sh [RUNS]   (median of RUNS runs each, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs=${1:-3}
eval_delay=${EVAL_DELAY:-3}
ssh_delay=${SSH_DELAY:-0.05}
command -v nix-instantiate >/dev/null || { echo "nix-instantiate is not on PATH (apt-get install nix-bin)" >&2; exit 1; }
cargo build --release -q -p homelab
homelab=$PWD/target/release/homelab
repo=$PWD

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/fake"/{current,booted,kernel-of,inputs-of}
cp tools/homelab/tests/it/support/fakes/{ssh,nix} "$work/bin/"
chmod +x "$work/bin/"*
# The inventory is evaluated once by the real Nix, before the fake `nix` is on PATH.
NIX_STATE_DIR=$work/nix-state nix-instantiate --eval --strict --json hosts/inventory.nix >"$work/inventory.json"

export FAKE_DIR=$work/fake PATH="$work/bin:$PATH"
run() { "$homelab" --root "$repo" --inventory "$work/inventory.json" deploy --hosts-only --plan "$@"; }

# Every host runs the system the fake `nix` builds, which records this repository's
# host input digest (as modules/host-inputs.nix does).
run --rebuild >/dev/null 2>&1
python3 - "$work/inventory.json" "$FAKE_DIR" <<'PY'
import json, sys
inventory, fake = json.load(open(sys.argv[1])), sys.argv[2]
for name, host in inventory["hosts"].items():
    open(f"{fake}/current/{host['ssh']}", "w").write(f"/nix/store/new-nixos-system-{name}\n")
PY

rm -f "$FAKE_DIR/calls"
if ! run >"$work/plan.txt" 2>&1 || ! grep -q "Nothing to deploy" "$work/plan.txt"; then
  echo "bench/deploy.sh: the no-op plan did not come out as a no-op:" >&2
  cat "$work/plan.txt" >&2
  exit 1
fi
hosts=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["hosts"]))' "$work/inventory.json")
ssh_trips=$(grep -c '^ssh ' "$FAKE_DIR/calls")
builds=$(grep -c '^nix build ' "$FAKE_DIR/calls" || true)

export FAKE_EVAL_DELAY=$eval_delay FAKE_SSH_DELAY=$ssh_delay
noop=$(median_ms "$runs" "$homelab" --root "$repo" --inventory "$work/inventory.json" deploy --hosts-only --plan)
rebuild=$(median_ms "$runs" "$homelab" --root "$repo" --inventory "$work/inventory.json" deploy --hosts-only --plan --rebuild)

python3 - "$noop" "$rebuild" "$hosts" "$ssh_trips" "$builds" "$eval_delay" "$ssh_delay" <<'PY'
import sys
noop, rebuild = float(sys.argv[1]), float(sys.argv[2])
hosts, trips, builds = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
eval_delay, ssh_delay = sys.argv[6], sys.argv[7]
print(f"reference lab, {hosts} hosts; nix build {eval_delay} s, SSH round trip {ssh_delay} s")
print(f"  deploy --hosts-only --plan, nothing changed: {noop:8.0f} ms  "
      f"({trips} SSH round trips, {builds} builds)")
print(f"  the same with --rebuild:                     {rebuild:8.0f} ms")
print(f"  ratio: {noop / rebuild:.3f}x  (target: one SSH round trip per host: "
      f"{'met' if trips <= hosts and builds == 0 else 'NOT met'})")
PY
