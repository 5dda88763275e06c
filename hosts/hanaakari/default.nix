# hanaakari: Intel N97 mini PC (16 GB, +1 TB SSD) — worker, ingress proxy and
# Ceph OSD. The SSD is listed in hosts/inventory.nix and left unmounted for
# Rook; only hardware lives here.
{
  imports = [ ../../modules/hardware/intel-n97.nix ];
}
