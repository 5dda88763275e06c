# The `sops.secrets` names the NixOS modules under modules/ declare for one
# host of an inventory, read from the modules themselves without nixpkgs:
# each module is called with the host's `config.homelab` and a small `lib`,
# and only the (lazy) attribute names under `sops.secrets` are taken, through
# `mkIf` and `mkMerge`. tests.nix compares them with nix/lib.nix
# `hostSecretKeys`, so a secret renamed in a module alone fails CI.
inventory: hostName:
let
  hl = import ../../nix/lib.nix;
  host = inventory.hosts.${hostName};

  fakeLib = {
    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkMerge = contents: {
      _type = "merge";
      inherit contents;
    };
    mkDefault = value: value;
    mkOption = attrs: attrs;
    types = { };
    literalExpression = text: text;
    literalMD = text: text;
    optional = cond: value: if cond then [ value ] else [ ];
    genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
    nameValuePair = name: value: { inherit name value; };
    mapAttrs' =
      f: set: builtins.listToAttrs (map (name: f name set.${name}) (builtins.attrNames set));
    mapAttrs = builtins.mapAttrs;
    mapAttrsToList = f: set: map (name: f name set.${name}) (builtins.attrNames set);
    concatLists = builtins.concatLists;
    concatMapStrings = f: list: builtins.concatStringsSep "" (map f list);
  };

  config = {
    homelab = {
      inherit inventory hostName host;
      inputs.digest = null;
      roles = fakeLib.genAttrs hl.roles (role: {
        enable = hl.hasRole host role;
      });
    };
  };

  args = {
    inherit config;
    lib = fakeLib;
    pkgs = { };
  };

  # A module's definitions (everything but `options` and `imports`).
  definitions =
    module:
    if builtins.isAttrs module && (module ? config || module ? options || module ? imports) then
      module.config or { }
    else
      module;

  # The secret names in one definition tree, through mkIf and mkMerge.
  secretNames =
    value:
    if value._type or null == "if" then
      (if value.condition then secretNames value.content else [ ])
    else if value._type or null == "merge" then
      builtins.concatLists (map secretNames value.contents)
    else
      let
        sops = value.sops or { };
        secrets = if sops._type or null == "if" || sops._type or null == "merge" then sops else sops.secrets or { };
      in
      if secrets ? _type then secretNames { sops.secrets = secrets; } else builtins.attrNames secrets;

  load = path: let m = import path; in if builtins.isFunction m then m args else m;

  # modules/default.nix and, recursively, everything it imports.
  collect =
    path:
    let
      module = load path;
    in
    [ module ] ++ builtins.concatLists (map collect (module.imports or [ ]));

  names = builtins.concatLists (map (m: secretNames (definitions m)) (collect ../../modules));
  unique = builtins.foldl' (acc: x: if builtins.elem x acc then acc else acc ++ [ x ]) [ ] names;
in
builtins.sort builtins.lessThan unique
