# One grammar per identifier, for the flake: the same rules `homelab check`
# applies (tools/homelab/src/names/), so `nixos-rebuild` never builds a host
# from a value `check` would refuse. Builtins only; both sides are tested
# against checks/identifiers/vectors.json (checks/identifiers/run.sh).
let
  inherit (builtins)
    attrNames
    concatLists
    concatStringsSep
    elem
    elemAt
    fromJSON
    head
    match
    stringLength
    ;

  matches = re: s: builtins.isString s && match re s != null;

  label = "[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?";
  letterLabel = "[a-z]([-a-z0-9]{0,61}[a-z0-9])?";
  qualifiedName = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?";
  subdomain = "${label}(\\.${label})*";
  userNameRe = "[a-z_][a-z0-9_-]{0,31}";
  hostLabel = "[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?";

  # Words a YAML 1.1 reader takes for a boolean or null.
  yamlWords = [
    "y"
    "yes"
    "n"
    "no"
    "true"
    "false"
    "on"
    "off"
    "null"
  ];

  # The base64 of each key type's own length-prefixed name, as far as whole
  # 3-byte groups go: the key must embed the type it is written with.
  keyPrefixes = {
    "ssh-ed25519" = "AAAAC3NzaC1lZDI1NTE5";
    "ssh-rsa" = "AAAAB3NzaC1y";
    "ecdsa-sha2-nistp256" = "AAAAE2VjZHNhLXNoYTItbmlzdHAy";
    "ecdsa-sha2-nistp384" = "AAAAE2VjZHNhLXNoYTItbmlzdHAz";
    "ecdsa-sha2-nistp521" = "AAAAE2VjZHNhLXNoYTItbmlzdHA1";
    "sk-ssh-ed25519@openssh.com" = "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t";
    "sk-ecdsa-sha2-nistp256@openssh.com" = "AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5j";
  };

  hasPrefix = prefix: s: builtins.substring 0 (stringLength prefix) s == prefix;

  portInRange = p: matches "[1-9][0-9]{0,4}" p && fromJSON p <= 65535;
in
rec {
  dnsLabel = s: matches label s;

  dnsSubdomain = s: matches subdomain s && stringLength s <= 253;

  domain =
    s: dnsSubdomain s && matches "(.*\\.)?[a-z][^.]*" s && !(elem s yamlWords);

  clusterName = s: matches letterLabel s && !(elem s yamlWords);

  clusterDomain =
    s: matches "${letterLabel}(\\.${letterLabel})*" s && stringLength s <= 253 && !(elem s yamlWords);

  labelKey =
    s:
    let
      m = match "((${subdomain})/)?(${qualifiedName})" s;
    in
    m != null && (head m == null || stringLength (elemAt m 1) <= 253);

  labelValue = s: s == "" || matches qualifiedName s;

  userName = s: matches userNameRe s;

  sshTarget =
    s:
    let
      m = match "((${userNameRe})@)?(${hostLabel}(\\.${hostLabel})*|[[][0-9A-Fa-f:.]+[]])(:([^:]*))?" s;
      host = elemAt m 2;
      port = elemAt m 7;
    in
    m != null && stringLength host <= 253 && (port == null || portInRange port);

  sshPublicKey =
    s:
    let
      m = match "([^ ]+) ([A-Za-z0-9+/]+={0,2})( [^[:cntrl:]]*)?" s;
      kind = head m;
      data = elemAt m 1;
    in
    m != null
    && keyPrefixes ? ${kind}
    && hasPrefix keyPrefixes.${kind} data
    && (stringLength data) - (stringLength data) / 4 * 4 == 0;

  diskPath =
    s:
    matches "/dev/[A-Za-z0-9._:+@=,-]+(/[A-Za-z0-9._:+@=,-]+)*" s
    && !(matches "(.*/)?\\.\\.?(/.*)?" s)
    && stringLength s <= 255;

  # A network card's address: six hex bytes, not all zero, not a group address
  # (the low bit of the first byte clear).
  mac =
    s:
    matches "[0-9A-Fa-f][02468aceACE](:[0-9A-Fa-f]{2}){5}" s && !(matches "00(:00){5}" s);

  # A Linux interface name as NixOS configures it (`networking.interfaces.<name>`).
  interface = s: matches "[a-z][a-z0-9_.-]{0,14}" s;

  # Every inventory value that breaks its grammar, as messages naming the field;
  # empty when the inventory is fine.
  failures =
    inventory:
    let
      check =
        field: ok: value:
        if ok value then [ ] else [ "${field}: ${builtins.toJSON value}" ];
      hostFailures =
        name:
        let
          host = inventory.hosts.${name};
          at = "hosts.${name}";
        in
        check "${at} (host name: a DNS-1123 label)" dnsLabel name
        ++ check "${at}.ssh ([user@]host[:port], never starting with '-')" sshTarget host.ssh
        ++ concatLists (
          map (
            key:
            check "${at}.labels key (a Kubernetes label key)" labelKey key
            ++ check "${at}.labels.${key} (a Kubernetes label value)" labelValue host.labels.${key}
          ) (attrNames (host.labels or { }))
        )
        ++ concatLists (
          map (
            t:
            check "${at}.taints key (a Kubernetes label key)" labelKey t.key
            ++ check "${at}.taints value (a Kubernetes label value)" labelValue (t.value or "")
          ) (host.taints or [ ])
        )
        ++ concatLists (
          map (d: check "${at}.disks device (/dev/…, no `..`, no whitespace)" diskPath d.device) (
            host.disks or [ ]
          )
        )
        ++ (
          if host ? confirmTimeout then
            check "${at}.confirmTimeout (whole seconds, 5 to 3600)" (
              t: builtins.isInt t && t >= 5 && t <= 3600
            ) host.confirmTimeout
          else
            [ ]
        )
        ++ (if host ? mac then check "${at}.mac (six hex bytes like 3c:7c:3f:1a:2b:4d)" mac host.mac else [ ])
        ++ (
          if host ? interface then
            check "${at}.interface (an interface name like enp1s0)" interface host.interface
          else
            [ ]
        );
      adminFailures =
        name:
        check "admins.${name} (a login name)" userName name
        ++ concatLists (
          map (
            k: check "admins.${name}.sshKeys (one line: a known key type and its base64)" sshPublicKey k
          ) (inventory.admins.${name}.sshKeys or [ ])
        );
    in
    check "domain (a DNS name whose last label starts with a letter)" domain inventory.domain
    ++ check "homeSubdomain (a DNS-1123 label)" dnsLabel (inventory.homeSubdomain or "home")
    ++ check "cluster.name (a DNS label starting with a letter, not a YAML word)" clusterName
      inventory.cluster.name
    ++ check "cluster.dnsDomain (DNS labels starting with a letter, not a YAML word)" clusterDomain
      inventory.cluster.dnsDomain
    ++ concatLists (map adminFailures (attrNames (inventory.admins or { })))
    ++ concatLists (map hostFailures (attrNames inventory.hosts));
}
