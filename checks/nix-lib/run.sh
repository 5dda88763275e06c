#!/usr/bin/env bash
# Nix checks that need no nixpkgs, for CI (Debian's nix-bin):
#   1. every .nix file in the repository parses (this also catches undefined
#      variables, which Nix reports at parse time);
#   2. the inventory evaluates to JSON;
#   3. the pure functions in nix/ pass their tests (checks/nix-lib/tests.nix).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

if ! command -v nix-instantiate >/dev/null; then
  echo "checks/nix-lib: nix-instantiate not found; install Nix (apt-get install nix-bin)" >&2
  exit 1
fi

# Nix's evaluator wants a writable state directory even for --parse.
export NIX_STATE_DIR="${NIX_STATE_DIR:-$(mktemp -d)}"

status=0
count=0
while IFS= read -r -d '' file; do
  count=$((count + 1))
  if ! nix-instantiate --parse "$file" >/dev/null; then
    echo "checks/nix-lib: $file does not parse" >&2
    status=1
  fi
done < <(find . -name '*.nix' -not -path './target/*' -not -path './.git/*' -not -path '*/fuzz/target/*' -print0)
echo "checks/nix-lib: $count .nix files parse"

if ! nix-instantiate --eval --strict --json hosts/inventory.nix >/dev/null; then
  echo "checks/nix-lib: hosts/inventory.nix does not evaluate" >&2
  status=1
else
  echo "checks/nix-lib: hosts/inventory.nix evaluates"
fi

failures="$(nix-instantiate --eval --strict --json checks/nix-lib/tests.nix)"
if [ "$failures" != "[]" ]; then
  echo "checks/nix-lib: nix/ library tests failed:" >&2
  echo "$failures" >&2
  status=1
else
  echo "checks/nix-lib: nix/ library tests pass"
fi

exit "$status"
