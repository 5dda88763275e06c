# A stand-in for sops-nix, written for checks/flake-eval: the NixOS module the
# lab's flake imports, as a path the nixpkgs stand-in checks (never evaluated).
{
  description = "sops-nix stand-in for the homelab flake checks";

  outputs =
    { self }:
    {
      nixosModules = rec {
        sops = ./module.nix;
        default = sops;
      };
    };
}
