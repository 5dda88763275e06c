# sops-nix stand-in: declares nothing; the nixpkgs stand-in's nixosSystem only
# checks that the module exists and imports.
{ ... }:
{ }
