#!/usr/bin/env bash
# A deploy plan with nothing changed, against the same command with `--rebuild`, which
# evaluates and builds every host as each deploy did before host input digests.
# Target: the no-op plan costs one SSH round trip per host plus the cluster's no-op
# path.
#
# 1. The reference lab's hosts: `homelab deploy --hosts-only --plan`. The repository is
#    the lab, read only; its charts are not cached here, so its cluster is left out.
# 2. A generated lab of 3 hosts and 400 objects applied on the fake API server (5 ms a
#    request): the whole `homelab deploy -e dev --plan`, hosts and cluster, with
#    `homelab diff -e dev` (the cluster's no-op path alone) as the floor.
#
# The hosts are the test suite's fake `ssh` and `nix` (tools/homelab/tests/it/support/
# fakes/): `nix build` takes EVAL_DELAY seconds (default 3; evaluating a real NixOS
# system takes 10-30 s) and every SSH round trip SSH_DELAY seconds (default 0.05, a Pi
# over Tailscale).
#
# usage: bench/deploy.sh [RUNS]   (median of RUNS runs each, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
export EVAL_DELAY=${EVAL_DELAY:-3} SSH_DELAY=${SSH_DELAY:-0.05}
command -v nix-instantiate >/dev/null || { echo "nix-instantiate is not on PATH (apt-get install nix-bin)" >&2; exit 1; }
cargo build --release -q -p homelab -p fake-apiserver
release=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release  # where cargo put it

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
cp tools/homelab/tests/it/support/fakes/{ssh,nix} "$work/bin/"
chmod +x "$work/bin/"*
# The inventories are evaluated by the real Nix, before the fake `nix` is on PATH.
export NIX_STATE_DIR=$work/nix-state
nix-instantiate --eval --strict --json hosts/inventory.nix >"$work/reference.json"
python3 bench/gen-lab.py "$work/lab" 3 20 20 --kinds 8 --independent
mkdir -p "$work/lab/nix"
printf '["hosts", "nix/host-inputs.json"]\n' >"$work/lab/nix/host-inputs.json"
nix-instantiate --eval --strict --json "$work/lab/hosts/inventory.nix" >"$work/generated.json"

PATH="$work/bin:$PATH" exec python3 bench/deploy.py "$runs" "$PWD" "$work" "$release"
