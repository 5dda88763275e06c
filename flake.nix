{
  description = "A home lab in one repository: NixOS hosts from an inventory, Kubernetes releases rendered and applied by `homelab`";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";
    sops-nix = {
      url = "github:Mic92/sops-nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    {
      self,
      nixpkgs,
      sops-nix,
    }:
    let
      inherit (nixpkgs) lib;
      hl = import ./nix/lib.nix;
      inventory = import ./hosts/inventory.nix;

      # The machines the tool and the deploy app run on: the hosts' systems.
      systems = hl.hostSystems inventory;
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # Every file a host's system is built from, listed in
      # nix/host-inputs.json. Their digest goes into each system as
      # /etc/homelab/inputs (modules/host-inputs.nix), built from this file set
      # alone and checked again there, so `homelab deploy` can tell a host
      # already runs what this repository builds without evaluating it.
      hostInputs = import ./nix/host-inputs.nix;
      hostPaths = hostInputs.entries ./.;
      inputs = {
        digest = hostInputs.digest ./. hostPaths;
        paths = hostPaths;
        source = lib.fileset.toSource {
          root = ./.;
          fileset = lib.fileset.unions (map (p: lib.fileset.maybeMissing (./. + "/${p}")) hostPaths);
        };
      };

      mkHost =
        name: host:
        lib.nixosSystem {
          modules = [
            sops-nix.nixosModules.sops
            ./modules
            (./hosts + "/${name}")
            {
              nixpkgs.hostPlatform = host.system;
              homelab = {
                inherit inventory inputs;
                hostName = name;
              };
            }
          ];
        };
    in
    {
      nixosConfigurations = lib.mapAttrs mkHost inventory.hosts;

      packages = forAllSystems (pkgs: rec {
        homelab = pkgs.callPackage ./nix/package.nix { };
        default = homelab;
      });

      apps = forAllSystems (pkgs: {
        deploy = {
          type = "app";
          program = lib.getExe (
            pkgs.callPackage ./nix/deploy-app.nix {
              homelab = self.packages.${pkgs.stdenv.hostPlatform.system}.homelab;
            }
          );
        };
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.callPackage ./nix/devshell.nix { };
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt);

      checks = forAllSystems (
        pkgs:
        let
          system = pkgs.stdenv.hostPlatform.system;
        in
        # A plain import, not `callPackage`: its result would carry
        # `override` and `overrideDerivation`, which `nix flake check` and
        # `nix flake show` reject as outputs that are not derivations.
        import ./nix/checks.nix {
          inherit (pkgs) runCommand writeText;
          inherit inventory;
          homelab = self.packages.${system}.homelab;
          src = self;
        }
        // lib.listToAttrs (
          map (name: {
            name = "host-${name}";
            value = self.nixosConfigurations.${name}.config.system.build.toplevel;
          }) (hl.hostsOfSystem inventory system)
        )
      );
    };
}
