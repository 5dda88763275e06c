#!/usr/bin/env bash
# Judges every vector of checks/identifiers/vectors.json with nix/identifiers.nix
# (the families marked "nix") and checks the reference inventory passes; the Rust
# rules are judged against the same file by `cargo test -p homelab --lib names`.
# Prints each disagreement; exits 1 if any.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if ! command -v nix-instantiate >/dev/null; then
  echo "checks/identifiers: nix-instantiate not found; install Nix (apt-get install nix-bin)" >&2
  exit 1
fi
# Nix's evaluator wants a writable state directory even for --eval.
export NIX_STATE_DIR="${NIX_STATE_DIR:-$(mktemp -d)}"

out=$(nix-instantiate --eval --strict --json --expr "
  let
    ids = import $here/../../nix/identifiers.nix;
    vectors = builtins.removeAttrs (builtins.fromJSON (builtins.readFile $here/vectors.json)) [ \"_comment\" ];
    nixFamilies = builtins.filter (f: vectors.\${f}.nix) (builtins.attrNames vectors);
    judge = f: expected: s:
      if ids.\${f} s == expected then [ ]
      else [ \"\${f}: \${builtins.toJSON s} should \${if expected then \"pass\" else \"be refused\"}\" ];
    wrong = f: builtins.concatLists (map (judge f true) vectors.\${f}.good ++ map (judge f false) vectors.\${f}.bad);
  in
  builtins.concatLists (map wrong nixFamilies)
  ++ map (m: \"reference inventory: \${m}\") (ids.failures (import $here/../../hosts/inventory.nix))
")
if [ "$out" != "[]" ]; then
  echo "nix/identifiers.nix disagrees with checks/identifiers/vectors.json:" >&2
  echo "$out" >&2
  exit 1
fi
echo "nix/identifiers.nix: every vector judged as written"
