# Pure functions over the inventory (hosts/inventory.nix). No nixpkgs: only
# builtins, so the flake, the NixOS modules and the offline tests
# (checks/nix-lib) all share one definition of "which host does what".
let
  inherit (builtins)
    attrNames
    concatStringsSep
    elem
    elemAt
    filter
    foldl'
    fromJSON
    genList
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

  # The host whose nginx forwards 80/443 to the ingress NodePorts, or null.
  ingressHostName =
    inventory:
    let
      names = hostsWithRole inventory "ingress";
    in
    if names == [ ] then
      null
    else if length names == 1 then
      head names
    else
      throw "homelab: the inventory allows at most one ingress host, found: [${concatStringsSep ", " names}]";

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

  # The URL every node and kubeconfig uses for the API server.
  apiserverUrl =
    inventory:
    let
      cp = inventory.hosts.${controlPlaneName inventory};
    in
    "https://${cp.lanAddress}:${toString inventory.cluster.apiPort}";

  # Kubelet `--node-labels` from the inventory's labels; "" when there are none.
  nodeLabelsFlag =
    labels:
    let
      pairs = map (key: "${key}=${labels.${key}}") (sortedNames labels);
    in
    if pairs == [ ] then "" else "--node-labels=${concatStringsSep "," pairs}";

  # `--register-with-taints` syntax: key=value:Effect,...
  taintsString = taints: concatStringsSep "," (map (t: "${t.key}=${t.value or ""}:${t.effect}") taints);

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

  # "10.42.0.0/16" -> { address = "10.42.0.0"; prefixLength = 16; }
  parseCidr =
    cidr:
    let
      m = match "([^/]+)/([0-9]+)" cidr;
    in
    if m == null then
      throw "homelab: `${cidr}` is not a CIDR (expected ADDRESS/PREFIX, e.g. 10.42.0.0/16)"
    else
      {
        address = elemAt m 0;
        prefixLength = fromJSON (elemAt m 1);
      };

  # "192.168.10.11" -> [ 192 168 10 11 ]
  parseIPv4 =
    address:
    let
      m = match "([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})" address;
      octets = if m == null then [ ] else map (o: fromJSON (stripLeadingZeros o)) m;
    in
    if m == null || filter (o: o > 255) octets != [ ] then
      throw "homelab: `${address}` is not an IPv4 address"
    else
      octets;

  stripLeadingZeros =
    s:
    let
      m = match "0*([0-9]+)" s;
    in
    if m == null then s else head m;

  ipv4ToInt = address: foldl' (acc: o: acc * 256 + o) 0 (parseIPv4 address);

  pow2 = n: foldl' (acc: _: acc * 2) 1 (genList (x: x) n);

  # Whether an IPv4 address lies inside an IPv4 CIDR.
  cidrContains =
    cidr: address:
    let
      c = parseCidr cidr;
      size = pow2 (32 - c.prefixLength);
      network = (ipv4ToInt c.address) / size * size;
      ip = ipv4ToInt address;
    in
    ip >= network && ip < network + size;

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

  # Key paths in secrets/hosts/<host>.yaml that sops-nix reads; the SOPS
  # file for a host must hold exactly these (checked by checks/nix-lib).
  hostSecretKeys =
    inventory: name:
    let
      host = inventory.hosts.${name};
    in
    [ "tailscale/auth_key" ]
    ++ map (admin: "users/${admin}/hashed_password") (sortedNames (inventory.admins or { }))
    ++ (if isKubernetesNode host then [ "kubernetes/apitoken" ] else [ ]);
}
