#!/usr/bin/env bash
# How fast `homelab check` is, as ratios against a peer measured in the same run:
#   1. the reference lab against `nix-instantiate --eval --strict --json` of the
#      inventory alone (the floor: check cannot avoid one evaluation); target <= 2x.
#   2. a generated lab of 50 hosts and 500 releases; target <= 0.5 s.
# usage: bench/check.sh [RUNS]   (median of RUNS runs each, default 21)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
cargo build --release -q -p homelab
release=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release  # where cargo put it
bin=$release/homelab

source bench/lib.sh

lab=$(mktemp -d)
trap 'rm -rf "$lab"' EXIT
python3 bench/gen-lab.py "$lab" 50 500

floor=$(median_ms "$runs" nix-instantiate --eval --strict --json hosts/inventory.nix)
check=$(median_ms "$runs" "$bin" check)
big=$(median_ms "$runs" "$bin" --root "$lab" check)
python3 - "$floor" "$check" "$big" <<'PY'
import sys
floor, check, big = map(float, sys.argv[1:])
print(f"reference lab: homelab check {check:.1f} ms, nix-instantiate alone {floor:.1f} ms: "
      f"ratio {check / floor:.2f}x (target <= 2x)")
print(f"50 hosts + 500 releases: homelab check {big:.1f} ms = {big / 1000:.3f} s (target <= 0.5 s), "
      f"{big / floor:.2f}x the reference floor")
PY
