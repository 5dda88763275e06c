# tokiwa: Intel N97 mini PC (16 GB) — application worker. Its roles, labels and
# addresses are in hosts/inventory.nix; only hardware lives here.
{
  imports = [ ../../modules/hardware/intel-n97.nix ];
}
