# yomogi: Raspberry Pi 4 (4 GB) — control plane and split DNS. Everything it
# runs follows from its roles in hosts/inventory.nix; only hardware lives here.
{
  imports = [ ./hardware.nix ];
}
