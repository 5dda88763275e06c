# What every Kubernetes node shares, whatever its role: its roles for the
# NixOS module (from nix/lib.nix, the one place that says which host does
# what), where the control plane is, the cluster's networks, the kubelet's
# labels and taints from the inventory (so nothing is labelled by hand), a
# serving certificate the API server can verify, the Ceph client modules,
# flannel on the LAN, and containerd's open-file limit.
{ config, lib, ... }:
let
  hl = import ../../nix/lib.nix;
  inherit (config.homelab) inventory host hostName;
  inherit (inventory) cluster;
  k8s = config.services.kubernetes;
  servingCert = k8s.pki.certs.kubeletServing;
in
{
  config = lib.mkIf (hl.isKubernetesNode host) {
    services.kubernetes = {
      roles = hl.kubernetesRoles host;
      # The control plane's name, which modules/names.nix makes resolve on
      # every host: nixpkgs writes it into URLs (cfssl, etcd) unbracketed, so
      # an IPv6 address would break them.
      masterAddress = hl.controlPlaneName inventory;
      # Set explicitly, with the port: nixpkgs' default builds the URL from
      # `advertiseAddress` without one.
      apiserverAddress = hl.apiserverUrl inventory;
      clusterCidr = cluster.podCidr;
      # Read on every node: the DNS addon's cluster IP (and so kubelet's
      # --cluster-dns) is derived from it.
      apiserver.serviceClusterIpRange = cluster.serviceCidr;
      addons.dns.clusterDomain = cluster.dnsDomain;

      # nixpkgs' own kubelet certificate carries only the host name as CN and
      # no subject alternative names, so the API server (which verifies
      # kubelets against the cluster CA) cannot reach them for logs and exec.
      # This one names the node and its LAN address.
      pki.certs.kubeletServing = k8s.lib.mkCert {
        name = "kubelet-serving";
        CN = hostName;
        hosts = hl.kubeletServingNames inventory hostName;
        action = "systemctl restart kubelet.service";
      };

      kubelet = {
        hostname = hostName;
        nodeIp = host.lanAddress;
        tlsCertFile = servingCert.cert;
        tlsKeyFile = servingCert.key;
        taints = hl.kubeletTaints host.taints;
        # --node-labels has no KubeletConfiguration field, so it stays a flag.
        extraOpts = hl.nodeLabelsFlag host.labels;
      };
    };

    # Rook's CSI plugin mounts `ceph-block` and CephFS volumes on whichever
    # node runs the pod, and cannot load kernel modules itself on NixOS; any
    # node may run a pod that claims one (docs/decisions.md).
    boot.kernelModules = [
      "ceph"
      "rbd"
    ];

    # Pin flannel to the LAN address so pod traffic never takes tailscale0.
    services.flannel.iface = lib.mkDefault host.lanAddress;

    # containerd's unit sets no LimitNOFILE; Ceph, Loki and Prometheus need far
    # more than systemd's default soft limit of 1024.
    systemd.services.containerd.serviceConfig.LimitNOFILE = lib.mkDefault 1048576;
  };
}
