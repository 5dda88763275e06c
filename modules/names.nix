# Every host resolves every other host's name (and its name in the lab's
# domain) to its LAN address, from the inventory: the API server reaches
# kubelets by node name when it must, and `masterAddress` is the control
# plane's name. No DNS server has to be up for the cluster to form.
{ config, ... }:
let
  hl = import ../nix/lib.nix;
in
{
  networking.hosts = hl.hostsFile config.homelab.inventory;
}
