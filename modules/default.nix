# Entry point for every host: declares `homelab.*` (the inventory and this
# host's name), derives the host's record, and imports every concern. Role
# modules switch themselves on from `homelab.roles.<role>.enable`, which is
# read-only and follows the inventory through nix/lib.nix: `homelab generate`
# and the host secrets follow the same list, so a role turned on here alone
# would read files that were never generated.
{ config, lib, ... }:
let
  hl = import ../nix/lib.nix;
  cfg = config.homelab;
in
{
  imports = [
    ./base.nix
    ./names.nix
    ./tailscale.nix
    ./firewall.nix
    ./kubernetes/common.nix
    ./kubernetes/control-plane.nix
    ./kubernetes/worker.nix
    ./dns.nix
    ./ingress.nix
    ./storage.nix
    ./deploy-rollback.nix
    ./host-inputs.nix
  ];

  options.homelab = {
    inventory = lib.mkOption {
      type = lib.types.attrs;
      description = "The whole lab as hosts/inventory.nix declares it.";
    };

    hostName = lib.mkOption {
      type = lib.types.str;
      description = "This host's name: a key of `homelab.inventory.hosts`.";
    };

    host = lib.mkOption {
      type = lib.types.attrs;
      readOnly = true;
      default =
        cfg.inventory.hosts.${cfg.hostName}
          or (throw "homelab: host `${cfg.hostName}` is not in hosts/inventory.nix; add it there first");
      defaultText = lib.literalExpression "config.homelab.inventory.hosts.\${config.homelab.hostName}";
      description = "This host's inventory record.";
    };

    roles = lib.genAttrs hl.roles (role: {
      enable = lib.mkOption {
        type = lib.types.bool;
        readOnly = true;
        default = hl.hasRole cfg.host role;
        defaultText = lib.literalMD "whether the inventory gives this host the `${role}` role";
        description = "Whether this host runs the `${role}` role (change it in hosts/inventory.nix).";
      };
    });
  };

  config.assertions = [
    {
      assertion = builtins.hasAttr cfg.hostName cfg.inventory.hosts;
      message = "homelab: host `${cfg.hostName}` is not in hosts/inventory.nix.";
    }
  ];
}
