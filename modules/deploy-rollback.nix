# The host side of `homelab deploy`'s magic rollback: one small script in the
# system closure (no daemon). The deployer copies the new system, then runs
#   <new>/sw/bin/homelab-activate activate <new> <seconds>
# which starts a transient timer that switches back to the previous generation,
# then activates <new> with `switch-to-configuration test` (no boot entry).
# Over a NEW SSH connection the deployer then runs `… confirm <new>`: it stops
# the timer, sets the system profile and the boot entry. A host the deployer
# cannot reach again (broken network, firewall, sshd) returns to its previous
# generation by itself when the timer fires. `… rollback <new>` goes back at
# once (a failed health check), also after a confirmation.
# docs/decisions.md explains the choice; docs/nixos-options.md the options.
#
# Wake-on-LAN: a host with a `mac` and an `interface` in the inventory keeps
# its network card listening for magic packets (`homelab wake`).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (config.homelab) host;
  activate = pkgs.writeShellScript "homelab-activate" (
    builtins.replaceStrings
      [
        "@path@"
        "@state@"
        "@unit@"
        "@profile@"
        "@current@"
        "@store@"
      ]
      [
        (lib.makeBinPath [
          pkgs.coreutils
          config.systemd.package
          config.nix.package
        ])
        "/run/homelab-deploy"
        "homelab-rollback"
        "/nix/var/nix/profiles/system"
        "/run/current-system"
        builtins.storeDir
      ]
      (builtins.readFile ./deploy-rollback/homelab-activate.sh)
  );
in
{
  environment.systemPackages = [
    (pkgs.runCommand "homelab-activate" { } ''
      mkdir -p $out/bin
      ln -s ${activate} $out/bin/homelab-activate
    '')
  ];

  networking.interfaces = lib.mkIf (host ? mac && host ? interface) {
    ${host.interface}.wakeOnLan.enable = true;
  };
}
