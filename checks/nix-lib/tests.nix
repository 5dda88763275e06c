# Tests of the pure functions in nix/lib.nix, runnable without nixpkgs:
#   nix-instantiate --eval --strict --json checks/nix-lib/tests.nix
# evaluates to the list of failures; [] means every test passed. They run on
# the fixture labs in fixtures.nix, never on the live inventory's names, so
# they hold for any lab; the live inventory is only walked generically.
let
  hl = import ../../nix/lib.nix;
  inherit (import ./fixtures.nix) alpha beta;
  live = import ../../hosts/inventory.nix;
  moduleSecrets = import ./module-secrets.nix;

  # Whether evaluating `value` throws (tryEval catches `throw`, not type errors).
  throws = value: !(builtins.tryEval (builtins.deepSeq value value)).success;

  # For every host of a lab: the keys the modules declare equal hostSecretKeys.
  secretsAgree =
    lab:
    builtins.filter (name: moduleSecrets lab name != hl.hostSecretKeys lab name) (
      builtins.attrNames lab.hosts
    );

  tests = {
    controlPlaneIsTheOne = {
      expr = [
        (hl.controlPlaneName alpha)
        (hl.controlPlaneName beta)
      ];
      expected = [
        "cp"
        "m"
      ];
    };
    controlPlaneMissingThrows = {
      expr = throws (hl.controlPlaneName (alpha // { hosts = { inherit (alpha.hosts) w1; }; }));
      expected = true;
    };
    controlPlaneTwoThrows = {
      expr = throws (
        hl.controlPlaneName (
          alpha
          // {
            hosts = alpha.hosts // {
              w1 = alpha.hosts.w1 // {
                roles = [ "control-plane" ];
              };
            };
          }
        )
      );
      expected = true;
    };
    hostsWithRoleSorted = {
      expr = hl.hostsWithRole alpha "worker";
      expected = [
        "w1"
        "w2"
      ];
    };
    kubernetesRoles = {
      expr = map hl.kubernetesRoles [
        alpha.hosts.cp
        alpha.hosts.w1
        beta.hosts.m
        beta.hosts.n
      ];
      expected = [
        [
          "master"
          "node"
        ]
        [ "node" ]
        [
          "master"
          "node"
        ]
        [ ]
      ];
    };
    isKubernetesNode = {
      expr = map hl.isKubernetesNode [
        alpha.hosts.cp
        alpha.hosts.w2
        beta.hosts.n
      ];
      expected = [
        true
        true
        false
      ];
    };
    hostSystemsSortedUnique = {
      expr = hl.hostSystems alpha;
      expected = [
        "aarch64-linux"
        "x86_64-linux"
      ];
    };
    hostsOfSystem = {
      expr = {
        x86 = hl.hostsOfSystem alpha "x86_64-linux";
        arm = hl.hostsOfSystem alpha "aarch64-linux";
        none = hl.hostsOfSystem alpha "riscv64-linux";
      };
      expected = {
        x86 = [
          "w1"
          "w2"
        ];
        arm = [ "cp" ];
        none = [ ];
      };
    };
    apiserverUrlIPv4 = {
      expr = hl.apiserverUrl alpha;
      expected = "https://192.0.2.11:6443";
    };
    apiserverUrlIPv6Bracketed = {
      expr = hl.apiserverUrl beta;
      expected = "https://[fd00:20:4::2]:443";
    };
    hostsFileEveryHost = {
      expr = hl.hostsFile beta;
      expected = {
        "fd00:20:4::2" = [
          "m"
          "m.beta.test"
        ];
        "fd00:20:4::3" = [
          "n"
          "n.beta.test"
        ];
      };
    };
    kubeletServingNames = {
      expr = hl.kubeletServingNames alpha "w1";
      expected = [
        "w1"
        "w1.alpha.test"
        "192.0.2.21"
      ];
    };
    nodeLabelsSortedByKey = {
      expr = hl.nodeLabelsFlag alpha.hosts.w2.labels;
      expected = "--node-labels=homelab.dev/storage=ceph,role=application";
    };
    nodeLabelsEmpty = {
      expr = hl.nodeLabelsFlag { };
      expected = "";
    };
    kubeletTaints = {
      expr = hl.kubeletTaints alpha.hosts.cp.taints;
      expected = {
        "node-role.kubernetes.io/control-plane" = {
          key = "node-role.kubernetes.io/control-plane";
          value = "";
          effect = "NoSchedule";
        };
      };
    };
    kubeletTaintsValueOptional = {
      expr = hl.kubeletTaints [
        {
          key = "dedicated";
          effect = "PreferNoSchedule";
        }
      ];
      expected = {
        dedicated = {
          key = "dedicated";
          value = "";
          effect = "PreferNoSchedule";
        };
      };
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
    trustedSourceRulesIPv4 = {
      expr = hl.trustedSourceRules [
        alpha.cluster.podCidr
        alpha.cluster.lanCidr
      ];
      expected = "ip saddr { 10.42.0.0/16, 192.0.2.0/24 } accept";
    };
    trustedSourceRulesBothFamilies = {
      expr = hl.trustedSourceRules [
        beta.cluster.podCidr
        alpha.cluster.lanCidr
      ];
      expected = "ip saddr { 192.0.2.0/24 } accept\nip6 saddr { fd42::/56 } accept";
    };
    trustedSourceRulesEmpty = {
      expr = hl.trustedSourceRules [ ];
      expected = "";
    };
    hostSecretKeysNode = {
      expr = hl.hostSecretKeys beta "m";
      expected = [
        "kubernetes/apitoken"
        "tailscale/auth_key"
        "users/bo/hashed_password"
        "users/cy/hashed_password"
      ];
    };
    hostSecretKeysWithoutKubernetes = {
      expr = hl.hostSecretKeys (beta // { admins = { }; }) "n";
      expected = [ "tailscale/auth_key" ];
    };
    # The one list of host secrets is what the modules really declare.
    moduleSecretsMatchHostSecretKeys = {
      expr = map secretsAgree [
        alpha
        beta
        live
      ];
      expected = [
        [ ]
        [ ]
        [ ]
      ];
    };
    liveRolesAreKnown = {
      expr = builtins.filter (role: !(builtins.elem role hl.roles)) (
        builtins.concatLists (map (name: live.hosts.${name}.roles) (builtins.attrNames live.hosts))
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
