#!/usr/bin/env bash
# homelab-activate: the host side of `homelab deploy`'s magic rollback, installed by
# modules/deploy-rollback.nix with its placeholders filled in (checks/deploy-rollback/run.sh
# runs it with stand-ins). docs/decisions.md explains the protocol.
set -euo pipefail
export PATH=@path@
profile=@profile@
# Only a system in the store is ever activated: the argument must be one.
system_path() {
  case "$1" in
    @store@/*-nixos-system-*) ;;
    *) echo "homelab-activate: not a NixOS system in the store: $1" >&2; exit 2 ;;
  esac
  [ -x "$1/bin/switch-to-configuration" ] || {
    echo "homelab-activate: $1 has no bin/switch-to-configuration (not copied?)" >&2
    exit 2
  }
  printf '%s\n' "$1"
}
stop_timer() {
  systemctl stop @unit@.timer @unit@.service 2>/dev/null || true
}
go_back() {
  previous=$(cat @state@/previous)
  if [ "$(readlink -f "$profile")" != "$previous" ]; then
    nix-env -p "$profile" --set "$previous"
    "$previous/bin/switch-to-configuration" boot
  fi
  "$previous/bin/switch-to-configuration" test
}
case "${1:-}" in
  activate)
    new=$(system_path "${2:-}")
    seconds=${3:-30}
    case "$seconds" in *[!0-9]*|"") echo "homelab-activate: bad timeout" >&2; exit 2 ;; esac
    mkdir -p @state@
    stop_timer
    readlink -f @current@ > @state@/previous
    printf '%s\n' "$new" > @state@/pending
    rm -f @state@/confirmed
    # Transient units are not part of any generation: a switch keeps them.
    # --collect unloads them once done, failed or not, so the name is free again.
    systemd-run --unit=@unit@ --collect --on-active="$seconds" \
      --timer-property=AccuracySec=1s \
      "$0" expire "$new"
    "$new/bin/switch-to-configuration" test
    ;;
  expire)
    # The timer fired: no confirmation arrived in time.
    [ -e @state@/confirmed ] && exit 0
    [ "$(cat @state@/pending 2>/dev/null)" = "${2:-}" ] || exit 0
    echo "homelab-activate: no confirmation for ${2:-}; rolling back" >&2
    go_back
    ;;
  confirm)
    new=$(system_path "${2:-}")
    [ "$(cat @state@/pending 2>/dev/null)" = "$new" ] || {
      echo "homelab-activate: $new is not the pending system (rolled back already?)" >&2
      exit 3
    }
    [ "$(readlink -f @current@)" = "$new" ] || {
      echo "homelab-activate: $new is not running (rolled back already?)" >&2
      exit 3
    }
    touch @state@/confirmed
    stop_timer
    nix-env -p "$profile" --set "$new"
    "$new/bin/switch-to-configuration" boot
    ;;
  rollback)
    stop_timer
    go_back
    ;;
  *)
    echo "usage: homelab-activate activate SYSTEM SECONDS | confirm SYSTEM | rollback" >&2
    exit 2
    ;;
esac
  