# Every host joins the tailnet unattended: the auth key comes from sops-nix and
# nixpkgs' `tailscaled-autoconnect` unit runs `tailscale up` with it. The
# tailnet is trusted like the LAN. The inventory's `tailscaleAddress` is the
# address the tailnet assigned; it cannot be set from here, only recorded.
{ config, lib, ... }:
let
  secret = (import ../nix/lib.nix).secretKeys.tailscaleAuthKey;
in
{
  sops.secrets.${secret}.restartUnits = [ "tailscaled-autoconnect.service" ];

  services.tailscale = {
    enable = true;
    authKeyFile = config.sops.secrets.${secret}.path;
    openFirewall = true;
    extraUpFlags = lib.mkDefault [ "--hostname=${config.homelab.hostName}" ];
  };

  networking.firewall.trustedInterfaces = [ config.services.tailscale.interfaceName ];
}
