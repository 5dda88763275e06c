# Tests of the pure functions in nix/lib.nix, runnable without nixpkgs:
#   nix-instantiate --eval --strict --json checks/nix-lib/tests.nix
# evaluates to the list of failures; [] means every test passed.
let
  hl = import ../../nix/lib.nix;
  reference = import ../../hosts/inventory.nix;

  # A second lab: two DNS hosts, no ingress, IPv6 pod network, no admins.
  small = {
    domain = "example.net";
    cluster = {
      lanCidr = "10.0.0.0/24";
      podCidr = "fd42::/56";
      apiPort = 443;
    };
    hosts = {
      cp = {
        system = "x86_64-linux";
        roles = [
          "control-plane"
          "dns"
        ];
        lanAddress = "10.0.0.2";
        labels = { };
        taints = [ ];
      };
      b = {
        system = "x86_64-linux";
        roles = [ "dns" ];
        lanAddress = "10.0.0.3";
      };
    };
  };

  # Whether evaluating `value` throws (tryEval catches `throw`, not type errors).
  throws = value: !(builtins.tryEval (builtins.deepSeq value value)).success;

  tests = {
    controlPlaneIsTheOne = {
      expr = hl.controlPlaneName reference;
      expected = "yomogi";
    };
    controlPlaneMissingThrows = {
      expr = throws (hl.controlPlaneName (reference // { hosts = { inherit (reference.hosts) tokiwa; }; }));
      expected = true;
    };
    controlPlaneTwoThrows = {
      expr = throws (
        hl.controlPlaneName (
          reference
          // {
            hosts = reference.hosts // {
              tokiwa = reference.hosts.tokiwa // {
                roles = [ "control-plane" ];
              };
            };
          }
        )
      );
      expected = true;
    };
    ingressHost = {
      expr = hl.ingressHostName reference;
      expected = "hanaakari";
    };
    noIngressIsNull = {
      expr = hl.ingressHostName small;
      expected = null;
    };
    hostsWithRoleSorted = {
      expr = hl.hostsWithRole reference "worker";
      expected = [
        "hanaakari"
        "tokiwa"
      ];
    };
    twoDnsHosts = {
      expr = hl.hostsWithRole small "dns";
      expected = [
        "b"
        "cp"
      ];
    };
    kubernetesRolesControlPlane = {
      expr = hl.kubernetesRoles reference.hosts.yomogi;
      expected = [
        "master"
        "node"
      ];
    };
    kubernetesRolesWorker = {
      expr = hl.kubernetesRoles reference.hosts.tokiwa;
      expected = [ "node" ];
    };
    kubernetesRolesNone = {
      expr = hl.kubernetesRoles small.hosts.b;
      expected = [ ];
    };
    isKubernetesNode = {
      expr = map hl.isKubernetesNode [
        reference.hosts.yomogi
        reference.hosts.hanaakari
        small.hosts.b
      ];
      expected = [
        true
        true
        false
      ];
    };
    hostSystemsSortedUnique = {
      expr = hl.hostSystems reference;
      expected = [
        "aarch64-linux"
        "x86_64-linux"
      ];
    };
    hostsOfSystem = {
      expr = {
        x86 = hl.hostsOfSystem reference "x86_64-linux";
        arm = hl.hostsOfSystem reference "aarch64-linux";
        none = hl.hostsOfSystem reference "riscv64-linux";
      };
      expected = {
        x86 = [
          "hanaakari"
          "tokiwa"
        ];
        arm = [ "yomogi" ];
        none = [ ];
      };
    };
    apiserverUrlHasPort = {
      expr = hl.apiserverUrl reference;
      expected = "https://192.168.10.11:6443";
    };
    apiserverUrlOtherPort = {
      expr = hl.apiserverUrl small;
      expected = "https://10.0.0.2:443";
    };
    nodeLabelsSortedByKey = {
      expr = hl.nodeLabelsFlag reference.hosts.hanaakari.labels;
      expected = "--node-labels=homelab.dev/storage=ceph,role=application";
    };
    nodeLabelsEmpty = {
      expr = hl.nodeLabelsFlag { };
      expected = "";
    };
    taintsString = {
      expr = hl.taintsString [
        {
          key = "node-role.kubernetes.io/control-plane";
          value = "";
          effect = "NoSchedule";
        }
        {
          key = "gpu";
          value = "true";
          effect = "NoExecute";
        }
      ];
      expected = "node-role.kubernetes.io/control-plane=:NoSchedule,gpu=true:NoExecute";
    };
    taintsStringValueOptional = {
      expr = hl.taintsString [
        {
          key = "dedicated";
          effect = "PreferNoSchedule";
        }
      ];
      expected = "dedicated=:PreferNoSchedule";
    };
    kubeletTaints = {
      expr = hl.kubeletTaints reference.hosts.yomogi.taints;
      expected = {
        "node-role.kubernetes.io/control-plane" = {
          key = "node-role.kubernetes.io/control-plane";
          value = "";
          effect = "NoSchedule";
        };
      };
    };
    kubeletTaintsEmpty = {
      expr = hl.kubeletTaints [ ];
      expected = { };
    };
    parseCidr = {
      expr = hl.parseCidr "10.42.0.0/16";
      expected = {
        address = "10.42.0.0";
        prefixLength = 16;
      };
    };
    parseCidrRejectsAddress = {
      expr = throws (hl.parseCidr "10.42.0.0");
      expected = true;
    };
    parseIPv4 = {
      expr = hl.parseIPv4 "192.168.010.1";
      expected = [
        192
        168
        10
        1
      ];
    };
    parseIPv4RejectsOctet = {
      expr = throws (hl.parseIPv4 "192.168.10.256");
      expected = true;
    };
    parseIPv4RejectsGarbage = {
      expr = throws (hl.parseIPv4 "yomogi");
      expected = true;
    };
    cidrContains = {
      expr = map (hl.cidrContains "192.168.10.0/24") [
        "192.168.10.0"
        "192.168.10.11"
        "192.168.10.255"
        "192.168.11.0"
        "192.168.9.255"
      ];
      expected = [
        true
        true
        true
        false
        false
      ];
    };
    cidrContainsUnalignedBase = {
      # A CIDR written with host bits set still means its network.
      expr = map (hl.cidrContains "100.101.10.11/10") [
        "100.64.0.1"
        "100.127.255.255"
        "100.128.0.0"
      ];
      expected = [
        true
        true
        false
      ];
    };
    cidrContainsEdges = {
      expr = [
        (hl.cidrContains "0.0.0.0/0" "255.255.255.255")
        (hl.cidrContains "10.0.0.1/32" "10.0.0.1")
        (hl.cidrContains "10.0.0.1/32" "10.0.0.2")
      ];
      expected = [
        true
        true
        false
      ];
    };
    referenceAddressesInsideCidrs = {
      expr = builtins.all (
        name:
        let
          h = reference.hosts.${name};
        in
        hl.cidrContains reference.cluster.lanCidr h.lanAddress
        && hl.cidrContains reference.cluster.tailscaleCidr h.tailscaleAddress
      ) (builtins.attrNames reference.hosts);
      expected = true;
    };
    isIPv6 = {
      expr = map hl.isIPv6 [
        "fd42::/56"
        "10.42.0.0/16"
      ];
      expected = [
        true
        false
      ];
    };
    trustedSourceRulesExactlyTheseNetworks = {
      expr = hl.trustedSourceRules [
        reference.cluster.podCidr
        reference.cluster.lanCidr
      ];
      expected = "ip saddr { 10.42.0.0/16, 192.168.10.0/24 } accept";
    };
    trustedSourceRulesIPv6 = {
      expr = hl.trustedSourceRules [
        small.cluster.podCidr
        small.cluster.lanCidr
      ];
      expected = "ip saddr { 10.0.0.0/24 } accept\nip6 saddr { fd42::/56 } accept";
    };
    trustedSourceRulesEmpty = {
      expr = hl.trustedSourceRules [ ];
      expected = "";
    };
    hostSecretKeysControlPlane = {
      expr = hl.hostSecretKeys reference "yomogi";
      expected = [
        "tailscale/auth_key"
        "users/ayumi/hashed_password"
        "kubernetes/apitoken"
      ];
    };
    hostSecretKeysWithoutKubernetes = {
      expr = hl.hostSecretKeys small "b";
      expected = [ "tailscale/auth_key" ];
    };
    inventoryRolesAreKnown = {
      expr = builtins.filter (role: !(builtins.elem role hl.roles)) (
        builtins.concatLists (map (name: reference.hosts.${name}.roles) (builtins.attrNames reference.hosts))
      );
      expected = [ ];
    };
  };

  failure =
    name:
    let
      t = tests.${name};
      result = builtins.tryEval (builtins.deepSeq t.expr t.expr);
    in
    if !result.success then
      "${name}: threw"
    else if result.value != t.expected then
      "${name}: expected ${builtins.toJSON t.expected}, got ${builtins.toJSON result.value}"
    else
      null;
in
builtins.filter (f: f != null) (map failure (builtins.attrNames tests))
