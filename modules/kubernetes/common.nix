# What every Kubernetes node shares, whatever its role: where the control
# plane is, the cluster's networks, the kubelet's labels and taints from the
# inventory (so nothing is labelled by hand), flannel on the LAN, and
# containerd's open-file limit.
{ config, lib, ... }:
let
  hl = import ../../nix/lib.nix;
  inherit (config.homelab) inventory host;
  inherit (inventory) cluster;
  controlPlane = inventory.hosts.${hl.controlPlaneName inventory};
  isNode = config.homelab.roles.control-plane.enable || config.homelab.roles.worker.enable;
in
{
  config = lib.mkIf isNode {
    services.kubernetes = {
      # Set explicitly, with the port: nixpkgs' default builds the URL from
      # `advertiseAddress` without one.
      masterAddress = controlPlane.lanAddress;
      apiserverAddress = hl.apiserverUrl inventory;
      clusterCidr = cluster.podCidr;
      # Read on every node: the DNS addon's cluster IP (and so kubelet's
      # --cluster-dns) is derived from it.
      apiserver.serviceClusterIpRange = cluster.serviceCidr;
      addons.dns.clusterDomain = cluster.dnsDomain;

      kubelet = {
        nodeIp = host.lanAddress;
        taints = hl.kubeletTaints host.taints;
        # --node-labels has no KubeletConfiguration field, so it stays a flag.
        extraOpts = hl.nodeLabelsFlag host.labels;
      };
    };

    # Pin flannel to the LAN address so pod traffic never takes tailscale0.
    services.flannel.iface = lib.mkDefault host.lanAddress;

    # containerd's unit sets no LimitNOFILE; Ceph, Loki and Prometheus need far
    # more than systemd's default soft limit of 1024.
    systemd.services.containerd.serviceConfig.LimitNOFILE = lib.mkDefault 1048576;
  };
}
