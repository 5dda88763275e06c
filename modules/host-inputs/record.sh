# Builds /etc/homelab/inputs (modules/host-inputs.nix): the `sha256sum` lines
# of every file under the listed paths of the host input source, sorted by
# path, checked against the digest evaluation computed (nix/host-inputs.nix).
# They differ only if the two ways of listing the files disagree; the build
# then fails rather than record a digest that does not describe this system.
#
# usage: record.sh SOURCE DIGEST OUT PATH...   (a PATH that does not exist
# contributes nothing, as in nix/host-inputs.nix)
set -euo pipefail
source=$1 digest=$2 out=$3
shift 3
cd "$source"
# Each path as `./PATH`, so none reads as an option to find; none at all when
# every listed path is missing (find would list the whole source).
for path; do
  shift
  if [ -e "./$path" ]; then set -- "$@" "./$path"; fi
done
if [ $# -gt 0 ]; then
  find "$@" -type f -print0 | sed -z 's|^\./||' | LC_ALL=C sort -zu | xargs -0 -r sha256sum -- >"$out"
else
  : >"$out"
fi
actual="v1-$(sha256sum <"$out" | cut -c1-64)"
if [ "$actual" != "$digest" ]; then
  echo "homelab: the host inputs hash to $actual here but to $digest in evaluation" >&2
  exit 1
fi
