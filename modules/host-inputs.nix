# Records the host input digest (nix/host-inputs.nix) in the system as
# /etc/homelab/inputs: a link to a store file named `homelab-inputs-<digest>`
# holding the `sha256sum` lines the digest covers, built from the host input
# file set alone (record.sh checks the digest again there). `homelab deploy`
# reads the link with the same `readlink -m` that reads the running system, so
# a host whose inputs did not change is not evaluated again. Being part of the
# system, it follows every switch and rollback by itself.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.homelab.inputs;
in
{
  options.homelab.inputs = {
    digest = lib.mkOption {
      type = lib.types.nullOr (lib.types.strMatching "v1-[0-9a-f]{64}");
      default = null;
      description = ''
        The digest of every file this system is built from (flake.nix sets it
        from nix/host-inputs.json). Null records nothing, and every deploy then
        evaluates this host.
      '';
    };

    paths = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      description = "The paths nix/host-inputs.json lists, relative to `source`.";
    };

    source = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      description = "The host input files alone (`lib.fileset.toSource` of `paths`).";
    };
  };

  config = lib.mkIf (cfg.digest != null) {
    environment.etc."homelab/inputs".source =
      pkgs.runCommand "homelab-inputs-${cfg.digest}" { } ''
        ${pkgs.bash}/bin/bash ${./host-inputs/record.sh} ${cfg.source} ${cfg.digest} $out ${lib.escapeShellArgs cfg.paths}
      '';
  };
}
