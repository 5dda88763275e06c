# The single control plane (the NixOS Kubernetes module has no HA; its roles
# come from kubernetes/common.nix): the API server advertised on the LAN
# address with the Tailscale address and name among its SANs, reaching
# kubelets by their LAN address first, etcd allowed on arm64, the cfssl API token
# from sops-nix so workers can join declaratively, and the cluster-admin
# kubeconfig handed to each admin.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  hl = import ../../nix/lib.nix;
  inherit (config.homelab) inventory host hostName;
  inherit (inventory) cluster;
  k8s = config.services.kubernetes;
  admins = builtins.attrNames (inventory.admins or { });
  adminCert = k8s.pki.certs.clusterAdmin;
in
{
  config = lib.mkIf config.homelab.roles.control-plane.enable {
    services.kubernetes = {
      apiserver = {
        advertiseAddress = host.lanAddress;
        securePort = cluster.apiPort;
        # InternalIP is the kubelet's `nodeIp` (the LAN address, in its serving
        # certificate); the name resolves through modules/names.nix.
        preferredAddressTypes = "InternalIP,Hostname";
        extraSANs =
          [
            hostName
            "${hostName}.${inventory.domain}"
          ]
          ++ lib.optional (host ? tailscaleAddress) host.tailscaleAddress
          ++ lib.optional (host ? tailscaleAddress6) host.tailscaleAddress6;
      };
      # The token the workers present to cfssl; the same secret reaches them
      # (modules/kubernetes/worker.nix), so no one pastes it by hand.
      pki.genCfsslAPIToken = false;
    };

    sops.secrets.${hl.secretKeys.kubernetesApiToken} = {
      path = "${config.services.cfssl.dataDir}/apitoken.secret";
      owner = "cfssl";
      restartUnits = [ "cfssl.service" ];
    };

    # etcd refuses to start on arm64 unless told the architecture is intended.
    systemd.services.etcd.environment = lib.mkIf pkgs.stdenv.hostPlatform.isAarch64 {
      ETCD_UNSUPPORTED_ARCH = "arm64";
    };

    environment.systemPackages = [ pkgs.kubectl ];

    # certmgr writes the cluster-admin key root-only and renews it; copy it,
    # with a kubeconfig pointing at it, into each admin's ~/.kube on every
    # renewal. An existing ~/.kube/config is never overwritten.
    systemd.services.homelab-admin-kubeconfig = {
      description = "Give the lab's admins the cluster-admin kubeconfig";
      after = [ "certmgr.service" ];
      wantedBy = [ "multi-user.target" ];
      unitConfig.ConditionPathExists = adminCert.key;
      serviceConfig.Type = "oneshot";
      script = lib.concatMapStrings (
        name:
        let
          home = config.users.users.${name}.home;
          dir = "${home}/.kube/homelab";
          kubeconfig = k8s.lib.mkKubeConfig "cluster-admin" {
            server = k8s.apiserverAddress;
            caFile = "${dir}/ca.pem";
            certFile = "${dir}/cluster-admin.pem";
            keyFile = "${dir}/cluster-admin-key.pem";
          };
        in
        ''
          install -d -o ${name} -m 0700 ${home}/.kube ${dir}
          install -o ${name} -m 0644 ${adminCert.caCert} ${dir}/ca.pem
          install -o ${name} -m 0644 ${adminCert.cert} ${dir}/cluster-admin.pem
          install -o ${name} -m 0600 ${adminCert.key} ${dir}/cluster-admin-key.pem
          install -o ${name} -m 0644 ${kubeconfig} ${dir}/kubeconfig
          [ -e ${home}/.kube/config ] || ln -s ${dir}/kubeconfig ${home}/.kube/config
        ''
      ) admins;
    };
    systemd.paths.homelab-admin-kubeconfig = {
      wantedBy = [ "multi-user.target" ];
      pathConfig.PathChanged = adminCert.cert;
    };
  };
}
