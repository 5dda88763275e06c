#!/usr/bin/env bash
# How fast `homelab render` is, as ratios against peers measured in the same run:
#   1. chart releases rendered through helm (the Helm v4 engine behind
#      tools/homelab/tests/support/helm) against the parallel floor: the sum of each
#      chart's own `helm template` time divided by the cores; target <= 1.3x.
#   2. 200 manifest-only releases of 20 objects each; target <= 1 s, shown against
#      `homelab check` of the same lab (loading and validation alone).
# usage: bench/render.sh [RUNS] [CHART_RELEASES]   (medians; defaults 5 and 8)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
charts=${2:-8}
cargo build --release -q -p homelab
release=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release  # where cargo put it
bin=$release/homelab
helm=$PWD/tools/homelab/tests/support/helm
cores=$(nproc)

source bench/lib.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. A lab of CHART_RELEASES releases of the fixture chart (subchart, crds/, helpers).
# (The reference lab's upstream charts need the network to lock and pull.)
lab=$work/charts
mkdir -p "$lab/releases" "$lab/hosts"
cp -r tools/homelab/tests/fixtures/charts "$lab/charts"
nix-instantiate --eval --strict --json hosts/inventory.nix > "$lab/inventory.json"
printf '[environments.dev]\ncontext = "kind-homelab"\nsecrets = "secrets/dev.yaml"\n' > "$lab/releases/environments.toml"
for i in $(seq -w 1 "$charts"); do
  mkdir -p "$lab/releases/web$i"
  # Each release its own copy, with its own CRD group: one CRD from two releases is an error.
  cp -r "$lab/charts/webapp" "$lab/charts/web$i"
  sed -i "s/example\.org/web$i.example.org/g" "$lab/charts/web$i/crds/widgets.yaml" "$lab/charts/web$i/templates/widget.yaml"
  printf 'name = "web%s"\nnamespace = "web%s"\nvalues = ["values.yaml"]\n\n[chart]\npath = "../../charts/web%s"\n' "$i" "$i" "$i" > "$lab/releases/web$i/release.toml"
  printf 'host: web%s.example.org\nreplicaCount: 2\n' "$i" > "$lab/releases/web$i/values.yaml"
done
export HOMELAB_HELM=$helm HOMELAB_CACHE_DIR=$work/cache
"$bin" --root "$lab" --inventory "$lab/inventory.json" render -e dev > /dev/null

floor_sum=0
for i in $(seq -w 1 "$charts"); do
  one=$(median_ms "$runs" "$helm" template "web$i" "$lab/charts/web$i" --namespace "web$i" \
    --values "$lab/releases/web$i/values.yaml" --include-crds --kube-version 1.34.1)
  floor_sum=$(python3 -c "print($floor_sum + $one)")
done
render=$(median_ms "$runs" "$bin" --root "$lab" --inventory "$lab/inventory.json" render -e dev)

# 2. 200 manifest-only releases x 20 objects.
big=$work/big
python3 bench/gen-lab.py "$big" 5 200 20
nix-instantiate --eval --strict --json "$big/hosts/inventory.nix" > "$big/inventory.json"
check=$(median_ms "$runs" "$bin" --root "$big" --inventory "$big/inventory.json" check)
many=$(median_ms "$runs" "$bin" --root "$big" --inventory "$big/inventory.json" render -e dev)

python3 - "$floor_sum" "$cores" "$render" "$charts" "$check" "$many" <<'PY'
import sys
floor_sum, cores, render, charts, check, many = map(float, sys.argv[1:])
floor = floor_sum / cores
print(f"{int(charts)} chart releases via helm: homelab render {render:.0f} ms, parallel floor "
      f"{floor:.0f} ms (sum of helm template {floor_sum:.0f} ms / {int(cores)} cores): "
      f"ratio {render / floor:.2f}x (target <= 1.3x)")
print(f"200 manifest-only releases x 20 objects: homelab render {many:.0f} ms = {many / 1000:.3f} s "
      f"(target <= 1 s), {many / check:.2f}x homelab check of the same lab ({check:.0f} ms)")
PY
