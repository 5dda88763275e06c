# Pure functions over the inventory (hosts/inventory.nix). No nixpkgs: only
# builtins, so the flake, the NixOS modules and the offline tests
# (checks/nix-lib) all share one definition of "which host does what".
let
  inherit (builtins)
    attrNames
    concatStringsSep
    elem
    filter
    foldl'
    fromJSON
    head
    length
    listToAttrs
    map
    match
    ;

  sortedNames = attrs: builtins.sort builtins.lessThan (attrNames attrs);

  uniqueStrings =
    list:
    foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ] list;
in
rec {
  # The roles a host may have; each is one NixOS module under modules/.
  roles = [
    "control-plane"
    "worker"
    "dns"
    "ingress"
    "storage"
  ];

  hasRole = host: role: elem role host.roles;

  # Names of the hosts with a role, sorted so every consumer sees one order.
  hostsWithRole =
    inventory: role: filter (name: hasRole inventory.hosts.${name} role) (sortedNames inventory.hosts);

  # The single host that runs the API server (the NixOS module has no HA).
  controlPlaneName =
    inventory:
    let
      names = hostsWithRole inventory "control-plane";
    in
    if length names == 1 then
      head names
    else
      throw "homelab: the inventory needs exactly one control-plane host, found ${toString (length names)}: [${concatStringsSep ", " names}]";

  # Hosts that join the Kubernetes cluster as nodes.
  isKubernetesNode = host: hasRole host "control-plane" || hasRole host "worker";

  # `services.kubernetes.roles` for a host: the control plane also runs a
  # kubelet so its node carries labels and taints like every other node.
  kubernetesRoles =
    host:
    if hasRole host "control-plane" then
      [
        "master"
        "node"
      ]
    else if hasRole host "worker" then
      [ "node" ]
    else
      [ ];

  # The systems the inventory's hosts run, e.g. [ "aarch64-linux" "x86_64-linux" ].
  hostSystems =
    inventory:
    builtins.sort builtins.lessThan (
      uniqueStrings (map (name: inventory.hosts.${name}.system) (attrNames inventory.hosts))
    );

  # Hosts to build for one system (the flake's `checks.<system>.host-<name>`).
  hostsOfSystem =
    inventory: system: filter (name: inventory.hosts.${name}.system == system) (sortedNames inventory.hosts);

  # An address as the host part of a URL: IPv6 in brackets (RFC 3986).
  urlHost = address: if isIPv6 address then "[${address}]" else address;

  # The URL every node and kubeconfig uses for the API server.
  apiserverUrl =
    inventory:
    let
      cp = inventory.hosts.${controlPlaneName inventory};
    in
    "https://${urlHost cp.lanAddress}:${toString inventory.cluster.apiPort}";

  # `networking.hosts` for every host: each host's LAN address answers to its
  # name and its name in the lab's domain, so node names (the kubelet's
  # Hostname address, the control plane's `masterAddress`) resolve everywhere
  # without a DNS server.
  hostsFile =
    inventory:
    listToAttrs (
      map (name: {
        name = inventory.hosts.${name}.lanAddress;
        value = [
          name
          "${name}.${inventory.domain}"
        ];
      }) (sortedNames inventory.hosts)
    );

  # The names and addresses the kubelet's serving certificate must hold: the
  # API server reaches the kubelet (logs, exec) by the node's InternalIP (its
  # LAN address) or its name, and verifies the certificate against the CA.
  kubeletServingNames =
    inventory: name:
    let
      host = inventory.hosts.${name};
    in
    [
      name
      "${name}.${inventory.domain}"
      host.lanAddress
    ];

  # Kubelet `--node-labels` from the inventory's labels; "" when there are none.
  nodeLabelsFlag =
    labels:
    let
      pairs = map (key: "${key}=${labels.${key}}") (sortedNames labels);
    in
    if pairs == [ ] then "" else "--node-labels=${concatStringsSep "," pairs}";

  # `services.kubernetes.kubelet.taints` (attrsOf { key, value, effect }).
  kubeletTaints =
    taints:
    listToAttrs (map (t: {
      name = t.key;
      value = {
        inherit (t) key effect;
        value = t.value or "";
      };
    }) taints);

  # --- CIDRs -------------------------------------------------------------

  isIPv6 = address: match ".*:.*" address != null;

  # nftables rules that accept traffic from trusted source networks, one per
  # family. Used by modules/firewall.nix for exactly the pod and LAN CIDRs.
  trustedSourceRules =
    cidrs:
    let
      v4 = filter (c: !(isIPv6 c)) cidrs;
      v6 = filter isIPv6 cidrs;
      rule = family: set: "${family} saddr { ${concatStringsSep ", " set} } accept";
    in
    concatStringsSep "\n" (
      (if v4 == [ ] then [ ] else [ (rule "ip" v4) ]) ++ (if v6 == [ ] then [ ] else [ (rule "ip6" v6) ])
    );

  # --- secrets -----------------------------------------------------------

  # The key paths in secrets/hosts/<host>.yaml and which hosts read them,
  # written once in nix/host-secrets.json: the modules name their
  # `sops.secrets` from `secretKeys`, `hostSecretKeys` lists them per host,
  # `homelab check` and `homelab host add` read the same JSON, and
  # checks/nix-lib proves the modules declare exactly these for any lab.
  hostSecretSpec = fromJSON (builtins.readFile ./host-secrets.json);

  # `{ tailscaleAuthKey = "tailscale/auth_key"; adminPassword = admin: …; }`:
  # a key with `{admin}` in it is a function of the admin's name.
  secretKeys = builtins.mapAttrs (
    _: spec:
    if match ".*\\{admin}.*" spec.key != null then
      admin: builtins.replaceStrings [ "{admin}" ] [ admin ] spec.key
    else
      spec.key
  ) hostSecretSpec;

  # The keys a host's SOPS file must hold exactly, sorted.
  hostSecretKeys =
    inventory: name:
    let
      host = inventory.hosts.${name};
      admins = sortedNames (inventory.admins or { });
      applies =
        spec:
        if spec.hosts == "every-host" then
          true
        else if spec.hosts == "kubernetes-nodes" then
          isKubernetesNode host
        else
          throw "homelab: nix/host-secrets.json: `hosts` must be \"every-host\" or \"kubernetes-nodes\", not \"${spec.hosts}\"";
      expand =
        id:
        let
          key = secretKeys.${id};
        in
        if builtins.isFunction key then map key admins else [ key ];
    in
    builtins.sort builtins.lessThan (
      builtins.concatLists (
        map expand (filter (id: applies hostSecretSpec.${id}) (sortedNames hostSecretSpec))
      )
    );
}
