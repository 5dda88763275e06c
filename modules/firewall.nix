# nftables firewall. Trusted: exactly the pod CIDR (pod-to-host traffic such as
# kubelet probes and flannel), the LAN CIDR, and tailscale0 (see tailscale.nix)
# — not all of 10.0.0.0/8. The API port is opened on the control plane only,
# for kubectl over networks that are not trusted.
{ config, lib, ... }:
let
  hl = import ../nix/lib.nix;
  inherit (config.homelab.inventory) cluster;
in
{
  networking.nftables.enable = lib.mkDefault true;

  # extraInputRules are nftables rules; with the iptables firewall they would be
  # dropped silently and the pod and LAN networks left untrusted. (nixpkgs'
  # iptables is the nft-compat build, so kube-proxy and flannel share nftables.)
  assertions = [
    {
      assertion = config.networking.nftables.enable;
      message = "homelab: modules/firewall.nix needs networking.nftables.enable = true; it trusts the pod and LAN CIDRs with nftables rules.";
    }
  ];

  networking.firewall = {
    enable = true;
    extraInputRules = hl.trustedSourceRules [
      cluster.podCidr
      cluster.lanCidr
    ];
    allowedTCPPorts = lib.optional config.homelab.roles.control-plane.enable cluster.apiPort;
    # Pods reach services on other nodes through flannel with asymmetric
    # paths; strict reverse-path filtering drops them.
    checkReversePath = lib.mkDefault "loose";
  };
}
