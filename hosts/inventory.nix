# The reference lab as pure data: evaluates with
#   nix-instantiate --eval --strict --json hosts/inventory.nix
# and needs no nixpkgs. The flake builds one NixOS system per host from it;
# `homelab` reads it for validation, generated configs and templates.
# Every cross-layer number (addresses, CIDRs, ports, labels) lives here once.
{
  # The user's own domain. Apps are served as <app>.home.<domain>, answered by
  # the split-DNS server only on the tailnet.
  domain = "example.org";
  homeSubdomain = "home";

  cluster = {
    name = "homelab";
    # The Kubernetes version the hosts run (nixpkgs 25.11 ships 1.34); charts
    # render against it with `helm template --kube-version`.
    kubernetesVersion = "1.34.1";
    lanCidr = "192.168.10.0/24";
    tailscaleCidr = "100.64.0.0/10";
    podCidr = "10.42.0.0/16";
    serviceCidr = "10.43.0.0/16";
    apiPort = 6443;
    dnsDomain = "cluster.local";
    upstreamDns = [
      "1.1.1.1"
      "9.9.9.9"
    ];
  };

  # The split-DNS server (CoreDNS on every host with the dns role).
  dns = {
    port = 53;
    healthPort = 8053;
  };

  # People who administer the lab: a login on every host, SSH keys only.
  admins = {
    ayumi = {
      sshKeys = [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHomelabReferenceLabPlaceholderKeyAyumi00000 ayumi@laptop"
      ];
    };
  };

  hosts = {
    yomogi = {
      system = "aarch64-linux";
      roles = [
        "control-plane"
        "dns"
      ];
      lanAddress = "192.168.10.11";
      tailscaleAddress = "100.101.10.11";
      labels = {
        "homelab.dev/board" = "raspberry-pi-4";
      };
      # The Pi has 4 GB: keep application pods off the control plane.
      taints = [
        {
          key = "node-role.kubernetes.io/control-plane";
          value = "";
          effect = "NoSchedule";
        }
      ];
      disks = [ ];
      ssh = "root@yomogi";
    };

    tokiwa = {
      system = "x86_64-linux";
      roles = [ "worker" ];
      lanAddress = "192.168.10.21";
      tailscaleAddress = "100.101.10.21";
      labels = {
        role = "application";
      };
      taints = [ ];
      disks = [ ];
      ssh = "root@tokiwa";
    };

    hanaakari = {
      system = "x86_64-linux";
      roles = [
        "worker"
        "ingress"
        "storage"
      ];
      lanAddress = "192.168.10.22";
      tailscaleAddress = "100.101.10.22";
      labels = {
        role = "application";
        "homelab.dev/storage" = "ceph";
      };
      taints = [ ];
      # The 1 TB SSD handed whole to a Ceph OSD.
      disks = [
        {
          device = "/dev/disk/by-id/ata-reference-lab-1tb-ssd";
          use = "ceph-osd";
        }
      ];
      ssh = "root@hanaakari";
    };
  };
}
