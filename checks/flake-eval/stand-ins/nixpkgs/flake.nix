# A stand-in for nixpkgs, written for checks/flake-eval: the few `lib` and
# package functions the lab's flake calls, returning real derivations that are
# never built. `callPackage` adds `override` and `overrideDerivation` as the
# real one does (lib/customisation.nix), so an output that is not a
# derivation fails here as it would with nixpkgs. `nixosSystem` does not
# evaluate NixOS modules: it checks what the flake hands it (every module path
# exists and imports, the host is in the inventory, its platform is set) and
# returns a system whose toplevel is a derivation.
{
  description = "nixpkgs stand-in for the homelab flake checks (never builds)";

  outputs =
    { self }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];

      # A derivation that is never built: building it fails at once. `env`
      # becomes its environment (strings, paths, derivations); `meta` is kept
      # beside it, as nixpkgs' stdenv does.
      unbuilt =
        system: name: env: meta:
        derivation (
          {
            inherit name system;
            builder = "/bin/sh";
            args = [
              "-c"
              "echo 'stand-in derivation from checks/flake-eval: not buildable' >&2; exit 1"
            ];
          }
          // env
        )
        // {
          inherit meta;
        };

      genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);

      lib = {
        inherit genAttrs;
        mapAttrs = builtins.mapAttrs;
        listToAttrs = builtins.listToAttrs;
        importTOML = path: builtins.fromTOML (builtins.readFile path);
        licenses.mit = {
          shortName = "mit";
        };
        getExe =
          drv:
          if drv ? meta.mainProgram then
            "${drv}/bin/${drv.meta.mainProgram}"
          else
            throw "nixpkgs stand-in: lib.getExe: `${drv.name}` has no meta.mainProgram";
        fileset = {
          unions = paths: builtins.filter (p: p != null) paths;
          maybeMissing = path: if builtins.pathExists path then path else null;
          toSource =
            { root, fileset }:
            let
              missing = builtins.filter (p: !(builtins.pathExists p)) fileset;
            in
            if missing == [ ] then
              root
            else
              throw "nixpkgs stand-in: lib.fileset.toSource: missing ${toString missing}";
        };

        nixosSystem =
          { modules, ... }:
          let
            paths = builtins.filter builtins.isPath modules;
            inline = builtins.filter builtins.isAttrs modules;
            settings = builtins.foldl' (acc: m: acc // m) { } inline;
            homelab =
              settings.homelab or (throw "nixpkgs stand-in: nixosSystem: no module sets `homelab`");
            hostName = homelab.hostName;
            platform =
              settings.nixpkgs.hostPlatform
                or (throw "nixpkgs stand-in: nixosSystem: `nixpkgs.hostPlatform` is not set");
            checkPath =
              p:
              if !(builtins.pathExists p) then
                throw "nixpkgs stand-in: nixosSystem `${hostName}`: module ${toString p} does not exist"
              else
                let
                  m = import p;
                in
                if builtins.isFunction m || builtins.isAttrs m then
                  true
                else
                  throw "nixpkgs stand-in: nixosSystem `${hostName}`: ${toString p} is not a module";
            checked =
              builtins.all checkPath paths
              && (
                if builtins.hasAttr hostName homelab.inventory.hosts then
                  true
                else
                  throw "nixpkgs stand-in: nixosSystem: host `${hostName}` is not in the inventory"
              );
          in
          assert checked;
          {
            config.system.build.toplevel = unbuilt platform "nixos-system-${hostName}" { } { };
          };
      };

      packagesFor =
        system:
        let
          tool = name: unbuilt system name { } { mainProgram = name; };
          pkgs =
            genAttrs [
              "age"
              "cargo"
              "clippy"
              "k9s"
              "kind"
              "kubectl"
              "kubernetes-helm"
              "nginx"
              "nix"
              "nixfmt"
              "nixos-rebuild"
              "openssh"
              "rustc"
              "rustfmt"
              "sops"
              "ssh-to-age"
              "util-linux"
              "velero"
            ] tool
            // {
              inherit lib;
              stdenv.hostPlatform.system = system;

              callPackage =
                fn: args:
                let
                  f = if builtins.isFunction fn then fn else import fn;
                  auto = builtins.intersectAttrs (builtins.functionArgs f) pkgs;
                  result = f (auto // args);
                  again = newArgs: pkgs.callPackage fn (args // newArgs);
                in
                if builtins.isAttrs result then
                  result
                  // {
                    override = again;
                    overrideDerivation = _: result;
                  }
                else
                  result;

              runCommand = name: env: script: unbuilt system name (env // { inherit script; }) { };
              writeText = name: text: unbuilt system name { inherit text; } { };
              writeShellApplication =
                {
                  name,
                  text,
                  runtimeInputs ? [ ],
                }:
                unbuilt system name { inherit text runtimeInputs; } { mainProgram = name; };
              mkShell = attrs: unbuilt system "nix-shell" { packages = attrs.packages or [ ]; } { };
              rustPlatform.buildRustPackage =
                attrs:
                unbuilt system "${attrs.pname}-${attrs.version}" { inherit (attrs) src; } (attrs.meta or { });
            };
        in
        pkgs;
    in
    {
      inherit lib;
      legacyPackages = genAttrs systems packagesFor;
    };
}
