# Inventories the nix/ library is tested on, independent of the live
# hosts/inventory.nix so the tests hold for any lab.
{
  # IPv4 LAN, one ingress host, two workers, one admin.
  alpha = {
    domain = "alpha.test";
    cluster = {
      lanCidr = "192.0.2.0/24";
      podCidr = "10.42.0.0/16";
      serviceCidr = "10.43.0.0/16";
      apiPort = 6443;
    };
    admins.ann.sshKeys = [ ];
    hosts = {
      cp = {
        system = "aarch64-linux";
        roles = [
          "control-plane"
          "dns"
        ];
        lanAddress = "192.0.2.11";
        labels = { };
        taints = [
          {
            key = "node-role.kubernetes.io/control-plane";
            value = "";
            effect = "NoSchedule";
          }
        ];
      };
      w1 = {
        system = "x86_64-linux";
        roles = [ "worker" ];
        lanAddress = "192.0.2.21";
        labels = {
          role = "application";
        };
        taints = [ ];
      };
      w2 = {
        system = "x86_64-linux";
        roles = [
          "worker"
          "ingress"
          "storage"
        ];
        lanAddress = "192.0.2.22";
        labels = {
          role = "application";
          "homelab.dev/storage" = "ceph";
        };
        taints = [ ];
      };
    };
  };

  # IPv6 LAN and pod network, two DNS hosts (one outside the cluster), no
  # ingress, two admins, the API on another port.
  beta = {
    domain = "beta.test";
    cluster = {
      lanCidr = "fd00:20:4::/64";
      podCidr = "fd42::/56";
      serviceCidr = "fd43::/112";
      apiPort = 443;
    };
    admins = {
      bo.sshKeys = [ ];
      cy.sshKeys = [ ];
    };
    hosts = {
      m = {
        system = "x86_64-linux";
        roles = [
          "control-plane"
          "worker"
        ];
        lanAddress = "fd00:20:4::2";
        labels = { };
        taints = [ ];
      };
      n = {
        system = "x86_64-linux";
        roles = [ "dns" ];
        lanAddress = "fd00:20:4::3";
        labels = { };
        taints = [ ];
      };
    };
  };
}
