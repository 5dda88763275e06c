#!/usr/bin/env bash
# Runs the host side of the magic rollback (modules/deploy-rollback/homelab-activate.sh)
# with its placeholders pointing into a temporary folder and stand-ins for systemd-run,
# systemctl, nix-env and each system's switch-to-configuration, then checks what each
# step left behind: the running system, the profile (boot entry) and the calls made.
# Prints each failed expectation; exits 1 if any.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
store="$work/store"
bin="$work/bin"
mkdir -p "$store" "$bin" "$work/state"
log="$work/log"
: >"$log"

# Each system's switch-to-configuration logs and, for `test`, becomes the current one.
for name in old new; do
  system="$store/aaaa-nixos-system-$name"
  mkdir -p "$system/bin"
  cat >"$system/bin/switch-to-configuration" <<SCRIPT
#!/usr/bin/env bash
echo "switch $name \$1" >> "$log"
if [ "\$1" = test ]; then ln -sfn "$system" "$work/current-system"; fi
SCRIPT
  chmod +x "$system/bin/switch-to-configuration"
done
old="$store/aaaa-nixos-system-old"
new="$store/aaaa-nixos-system-new"
printf '#!/usr/bin/env bash\necho "systemd-run $*" >> "%s"\n' "$log" >"$bin/systemd-run"
printf '#!/usr/bin/env bash\necho "systemctl $*" >> "%s"\n' "$log" >"$bin/systemctl"
printf '#!/usr/bin/env bash\necho "nix-env $*" >> "%s"\nln -sfn "$4" "$2"\n' "$log" >"$bin/nix-env"
chmod +x "$bin"/*

script="$work/homelab-activate"
sed -e "s|@path@|$bin:$PATH|" -e "s|@state@|$work/state|g" -e "s|@unit@|homelab-rollback|g" \
  -e "s|@profile@|$work/profile|g" -e "s|@current@|$work/current-system|g" \
  -e "s|@store@|$store|g" "$here/../../modules/deploy-rollback/homelab-activate.sh" >"$script"
chmod +x "$script"
if grep -n '@[a-z]*@' "$script"; then
  echo "checks/deploy-rollback: a placeholder is left in the script" >&2
  exit 1
fi

failures=0
expect() { # what, actual, expected
  if [ "$2" != "$3" ]; then
    echo "checks/deploy-rollback: $1: got '$2', expected '$3'" >&2
    failures=$((failures + 1))
  fi
}
fresh() {
  ln -sfn "$old" "$work/current-system"
  ln -sfn "$old" "$work/profile"
  rm -rf "$work/state"/*
  : >"$log"
}

# 1. Activated, never confirmed: the timer's `expire` switches back; the profile
#    (boot entry) never moved.
fresh
"$script" activate "$new" 7
expect "activate runs the new system" "$(readlink -f "$work/current-system")" "$new"
expect "the timer is armed before the switch" "$(head -n 1 "$log")" \
  "systemctl stop homelab-rollback.timer homelab-rollback.service"
expect "the timer" "$(sed -n 2p "$log")" \
  "systemd-run --unit=homelab-rollback --collect --on-active=7 --timer-property=AccuracySec=1s $script expire $new"
expect "then the switch" "$(sed -n 3p "$log")" "switch new test"
"$script" expire "$new" 2>/dev/null
expect "expire switches back" "$(readlink -f "$work/current-system")" "$old"
expect "the boot entry never changed" "$(readlink -f "$work/profile")" "$old"
expect "a late confirm is refused" "$("$script" confirm "$new" 2>&1 >/dev/null; echo "rc=$?")" \
  "homelab-activate: $new is not running (rolled back already?)
rc=3"

# 2. Confirmed: the timer stops, profile and boot entry follow; a late expire is a no-op.
fresh
"$script" activate "$new" 30
"$script" confirm "$new"
expect "confirm sets the profile" "$(readlink -f "$work/profile")" "$new"
expect "confirm's calls" "$(tail -n 3 "$log" | tr '\n' ';')" \
  "systemctl stop homelab-rollback.timer homelab-rollback.service;nix-env -p $work/profile --set $new;switch new boot;"
"$script" expire "$new"
expect "expire after confirm changes nothing" "$(readlink -f "$work/current-system")" "$new"

# 3. Rolled back after confirmation (failed health check): profile, boot entry and
#    running system all return.
"$script" rollback "$new"
expect "rollback runs the old system" "$(readlink -f "$work/current-system")" "$old"
expect "rollback resets the profile" "$(readlink -f "$work/profile")" "$old"
expect "rollback's switches" "$(grep '^switch' "$log" | tail -n 2 | tr '\n' ';')" "switch old boot;switch old test;"

# 4. Only store systems are activated.
fresh
expect "a path outside the store is refused" \
  "$("$script" activate /tmp/x 30 2>&1 >/dev/null; echo "rc=$?")" \
  "homelab-activate: not a NixOS system in the store: /tmp/x
rc=2"
expect "a bad timeout is refused" "$("$script" activate "$new" '5;reboot' 2>&1 >/dev/null; echo "rc=$?")" \
  "homelab-activate: bad timeout
rc=2"
expect "nothing ran" "$(cat "$log")" ""

if [ "$failures" -gt 0 ]; then
  exit 1
fi
echo "checks/deploy-rollback: activate, expire, confirm and rollback behave"
