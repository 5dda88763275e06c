#!/usr/bin/env bash
# The flake's outputs evaluate: `nix flake check --no-build` and
# `nix flake show` on a lab with every input replaced by the stand-ins in
# checks/flake-eval/stand-ins/ (written for this check; nothing is fetched or
# built). An output that is not a derivation, a missing attribute or a host
# that fails to evaluate makes it fail.
#
#   checks/flake-eval/run.sh        this repository, then three broken copies
#                                   of it that must fail (negative cases)
#   checks/flake-eval/run.sh LAB    another lab (e.g. the tests' second lab)
#
# The lab's tracked files (or all files of a LAB that is not a git work tree)
# are copied to a temporary folder and evaluated as a `path:` flake, with a
# private Nix store there, so nothing outside that folder is touched.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
negative=1
lab="$repo"
if [ $# -gt 0 ]; then
  lab="$(cd "$1" && pwd)"
  negative=0
fi

if ! command -v nix >/dev/null; then
  echo "checks/flake-eval: nix not found; install Nix 2.8 or later (apt-get install nix-bin)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export NIX_STATE_DIR="$work/state" NIX_CONF_DIR="$work/conf" HOME="$work/home"
mkdir -p "$NIX_CONF_DIR" "$HOME"
# Offline by construction: no substituters, and any attempt to fetch fails.
cat >"$NIX_CONF_DIR/nix.conf" <<'CONF'
experimental-features = nix-command flakes
substituters =
build-users-group =
sandbox = false
CONF

# copy_lab SRC DEST: the files a flake of SRC would see.
copy_lab() {
  mkdir -p "$2"
  if git -C "$1" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$1" && git ls-files -z --cached --others --exclude-standard) |
      (cd "$1" && xargs -0 cp --parents -t "$2" 2>/dev/null || true)
  else
    (cd "$1" && tar --exclude=./target --exclude=./.git -cf - .) | (cd "$2" && tar -xf -)
  fi
}

cp -r "$here/stand-ins" "$work/stand-ins"
store="$work/store"

# evaluate DIR: flake check and flake show of the flake in DIR.
evaluate() {
  local dir="$1"
  local flags=(--store "$store" --offline --no-write-lock-file
    --override-input nixpkgs "path:$work/stand-ins/nixpkgs"
    --override-input sops-nix "path:$work/stand-ins/sops-nix")
  nix flake check --no-build "${flags[@]}" "path:$dir" &&
    nix flake show "${flags[@]}" "path:$dir" >"$dir.show" 2>&1
}

copy_lab "$lab" "$work/lab"
if ! evaluate "$work/lab" 2>"$work/err"; then
  echo "checks/flake-eval: the flake's outputs do not evaluate:" >&2
  grep -v "^warning: \(Git tree\|input '.*' has an override\)" "$work/err" >&2 || true
  exit 1
fi
hosts="$(grep -c 'NixOS configuration' "$work/lab.show" || true)"
echo "checks/flake-eval: nix flake check --no-build and nix flake show pass ($hosts NixOS configurations)"

[ "$negative" = 1 ] || exit 0

# Each broken copy must fail, with the reason Nix gives.
status=0
expect_failure() {
  local name="$1" want="$2" dir="$work/neg-$1"
  if evaluate "$dir" 2>"$dir.err"; then
    echo "checks/flake-eval: negative case \`$name\` evaluated; it must fail" >&2
    status=1
  elif ! grep -q -- "$want" "$dir.err"; then
    echo "checks/flake-eval: negative case \`$name\` failed without \`$want\`:" >&2
    cat "$dir.err" >&2
    status=1
  else
    echo "checks/flake-eval: negative case \`$name\` fails as it must"
  fi
}

# 1. checks.<system> built with callPackage: `override` is not a derivation.
copy_lab "$lab" "$work/neg-callpackage"
python3 - "$work/neg-callpackage/flake.nix" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("import ./nix/checks.nix {\n          inherit (pkgs) runCommand writeText;", "pkgs.callPackage ./nix/checks.nix {")
open(p, "w").write(s)
PY
expect_failure callpackage "is not a derivation"

# 2. A missing attribute: a host without its hosts/<name>/ folder.
copy_lab "$lab" "$work/neg-host-folder"
first="$(cd "$work/neg-host-folder/hosts" && ls -d */ | head -n1)"
rm -r "$work/neg-host-folder/hosts/$first"
expect_failure host-folder "does not exist"

# 3. A host module that does not evaluate.
copy_lab "$lab" "$work/neg-host-module"
printf '{ imports = [ ./missing.nix ]; ' >"$work/neg-host-module/hosts/$first/default.nix"
expect_failure host-module "syntax error"

exit "$status"
