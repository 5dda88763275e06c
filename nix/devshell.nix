# `nix develop`: the Rust toolchain plus every tool the lab is operated with.
{
  mkShell,
  age,
  cargo,
  clippy,
  k9s,
  kind,
  kubectl,
  kubernetes-helm,
  nixfmt,
  rustc,
  rustfmt,
  sops,
  ssh-to-age,
  velero,
}:
mkShell {
  packages = [
    cargo
    rustc
    clippy
    rustfmt
    kubernetes-helm
    kubectl
    k9s
    sops
    age
    ssh-to-age
    velero
    kind
    nixfmt
  ];
}
