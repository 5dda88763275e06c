# Rook Ceph prerequisites on storage hosts: LVM, which ceph-volume uses to
# prepare OSDs. (The ceph and rbd kernel modules are loaded on every
# Kubernetes node by kubernetes/common.nix: volumes mount where pods run.) The OSD disks themselves are
# listed in the inventory (`disks`, use = "ceph-osd") and handed to Rook whole:
# they must carry no partitions or filesystems, and nothing here mounts them.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (config.homelab) host hostName;
  osdDisks = builtins.filter (d: d.use == "ceph-osd") (host.disks or [ ]);
in
{
  config = lib.mkIf config.homelab.roles.storage.enable {
    assertions = [
      {
        assertion = osdDisks != [ ];
        message = "homelab: host `${hostName}` has the storage role but no disk with use = \"ceph-osd\" in hosts/inventory.nix.";
      }
    ];

    services.lvm.enable = true;
    environment.systemPackages = [ pkgs.lvm2 ];
  };
}
